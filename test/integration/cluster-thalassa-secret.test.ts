import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import type { ClusterThalassaSecret, ClusterThalassaSecretSpec } from '../../src/api/v1alpha1/cluster-thalassa-secret.ts';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { ensureControlPlaneBinaries } from '../support/cluster.ts';
import { createRetrying, deleteNamespace, deleteRetrying, isStatus, retryTransient, uniqueName, waitFor } from '../support/kube.ts';
import { group, OperatorHarness } from '../support/operator-harness.ts';

/*
ClusterThalassaSecret on the real API server: admission, fan-out into the namespaces that match,
namespaces that start or stop matching, ownership of what is in the way, a bounded status, and 500
namespaces served with one reveal per version.
*/

const version = 'v1alpha1';
const plural = 'clusterthalassasecrets';
const parentLabel = 'secrets.thalassa.cloud/cluster-thalassa-secret';

interface Refusal {
  readonly code: number;
  readonly message: string;
}

async function refusal(create: () => Promise<unknown>): Promise<Refusal | undefined> {
  return await create().then(
    () => undefined,
    (error: unknown) => {
      const { code, body } = error as { code: number; body: string };
      return { code, message: (JSON.parse(body) as { message: string }).message };
    },
  );
}

/** A measurement: on the test (reporters that show annotations) and in the output. */
async function report(annotate: (message: string) => Promise<unknown>, message: string): Promise<void> {
  process.stdout.write(`cluster-thalassa-secret: ${message}\n`);
  await annotate(message);
}

/** Runs `tasks` with at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = items[next++]; item !== undefined; item = items[next++]) await task(item);
    }),
  );
}

describe('ClusterThalassaSecret', () => {
  let h: OperatorHarness;
  let store: string;
  /** This run's label key: namespaces of other runs never match. */
  const selectorKey = `cts-test.thalassa.cloud/${uniqueName('run')}`;
  const parents: string[] = [];
  const namespaces: string[] = [];

  const body = (name: string, spec: Record<string, unknown>) => ({ apiVersion: `${group}/${version}`, kind: 'ClusterThalassaSecret', metadata: { name }, spec });

  async function createParent(name: string, spec: Partial<ClusterThalassaSecretSpec>): Promise<void> {
    parents.push(name);
    await createRetrying(() =>
      h.objects.createClusterCustomObject({ group, version, plural, body: body(name, { storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, ...spec }) }),
    );
  }

  async function patchParent(name: string, patch: Record<string, unknown>): Promise<void> {
    await retryTransient(() =>
      h.objects.patchClusterCustomObject({ group, version, plural, name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }

  async function getParent(name: string): Promise<ClusterThalassaSecret> {
    return (await retryTransient(() => h.objects.getClusterCustomObject({ group, version, plural, name }))) as ClusterThalassaSecret;
  }

  async function deleteParent(name: string): Promise<void> {
    await deleteRetrying(() => h.objects.deleteClusterCustomObject({ group, version, plural, name })).catch((error: unknown) => {
      if (!isStatus(error, 404)) throw error;
    });
  }

  /** Waits until the parent's status, for its current generation, satisfies `check`. */
  async function waitForParent(name: string, check: (parent: ClusterThalassaSecret) => boolean, what: string, timeoutMs = 60_000): Promise<ClusterThalassaSecret> {
    let last = '';
    return await waitFor(
      async () => {
        const parent = await getParent(name);
        last = JSON.stringify(parent.status ?? {}).slice(0, 600);
        return parent.status?.observedGeneration === parent.metadata.generation && check(parent) ? parent : undefined;
      },
      { timeoutMs, intervalMs: 250, message: () => `ClusterThalassaSecret ${name}: ${what} (status: ${last})` },
    );
  }

  const ready = (parent: ClusterThalassaSecret) => parent.status?.conditions?.find((c) => c.type === 'Ready');

  async function createNamespaces(prefix: string, count: number, labels: Record<string, string> = {}): Promise<string[]> {
    const names = Array.from({ length: count }, () => uniqueName(prefix));
    namespaces.push(...names);
    await inParallel(names, 16, async (name) => await createRetrying(() => h.core.createNamespace({ body: { metadata: { name, labels } } })));
    return names;
  }

  async function labelNamespace(name: string, labels: Record<string, string | null>): Promise<void> {
    await retryTransient(() =>
      h.core.patchNamespace({ name, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }

  async function readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return await retryTransient(() => h.core.readNamespacedSecret({ namespace, name })).catch((error: unknown) => {
      if (isStatus(error, 404)) return undefined;
      throw error;
    });
  }

  async function secretValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    const value = (await readSecret(namespace, name))?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }

  async function waitForValue(namespace: string, name: string, key: string, expected: string, timeoutMs = 60_000): Promise<void> {
    let last: string | undefined;
    await waitFor(
      async () => {
        last = await secretValue(namespace, name, key);
        return last === expected;
      },
      { timeoutMs, intervalMs: 200, message: () => `Secret ${namespace}/${name} to hold ${key}=${expected} (has ${String(last)})` },
    );
  }

  async function readChild(namespace: string, name: string): Promise<ThalassaSecret | undefined> {
    return await retryTransient(() => h.objects.getNamespacedCustomObject({ group, version, namespace, plural: 'thalassasecrets', name }))
      .then((o) => o as ThalassaSecret)
      .catch((error: unknown) => {
        if (isStatus(error, 404)) return undefined;
        throw error;
      });
  }

  beforeAll(async () => {
    h = await OperatorHarness.start({ operator: { namespaces: 'all' } });
    store = await h.createClusterStore('fan-out');
  });

  afterEach(async () => {
    // Parents first: their ThalassaSecrets and Secrets go with them (garbage collector).
    for (const name of parents.splice(0)) await deleteParent(name);
  });

  afterAll(async () => {
    // Namespaces are deleted without waiting for them to finish terminating.
    await inParallel(namespaces.splice(0), 16, async (name) => await deleteNamespace(h.kc, name));
    await h.stop();
  });

  describe('admission', () => {
    const spec = (extra: Record<string, unknown>) => ({ data: [{ key: 'k', path: '/a/b' }], namespaces: ['team-a'], ...extra });
    const cases: [string, string, Record<string, unknown>, string[]][] = [
      ['neither namespaceSelectors nor namespaces', 'bad-selection', { data: [{ key: 'k', path: '/a/b' }] }, ['spec', 'at least one entry in namespaceSelectors or namespaces is required']],
      ['empty namespaceSelectors and namespaces', 'bad-empty', spec({ namespaces: [], namespaceSelectors: [] }), ['spec', 'at least one entry in namespaceSelectors or namespaces is required']],
      ['a namespaced store', 'bad-store', spec({ storeRef: { kind: 'ThalassaSecretStore', name: 's' } }), ['spec.storeRef.kind', 'can only use a ClusterThalassaSecretStore']],
      ['a storeRef without kind', 'bad-store-kind', spec({ storeRef: { name: 's' } }), ['spec.storeRef.kind', 'can only use a ClusterThalassaSecretStore']],
      ['neither data nor dataFrom (the ThalassaSecret rule)', 'bad-data', { namespaces: ['team-a'] }, ['spec', 'at least one entry in data or dataFrom is required']],
      [
        'deletionPolicy Delete with creationPolicy Merge (a nested ThalassaSecret rule)',
        'bad-target',
        spec({ target: { creationPolicy: 'Merge', deletionPolicy: 'Delete' } }),
        ['spec.target.deletionPolicy', 'deletionPolicy Delete requires creationPolicy Owner'],
      ],
      ['a namespace name that is not a DNS label', 'bad-namespace', spec({ namespaces: ['Team_A'] }), ['spec.namespaces[0]', 'should match']],
      ['an unknown selector operator', 'bad-operator', spec({ namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'Like' }] }] }), ['spec.namespaceSelectors[0].matchExpressions[0].operator', 'Unsupported value']],
      ['a name longer than 63 characters', `bad-${'n'.repeat(60)}`, spec({}), ['at most 63 characters: it is the value of a label']],
    ];

    it.for(cases)('rejects %s', async ([, name, badSpec, fragments]) => {
      const refused = await refusal(() => h.objects.createClusterCustomObject({ group, version, plural, body: body(name, badSpec) }));
      expect(refused, 'the API server accepted it').toBeDefined();
      expect(refused?.code).toBe(422);
      for (const fragment of fragments) expect(refused?.message).toContain(fragment);
    });

    it('accepts a minimal one and stores it unchanged, and kubectl explains it and shows its columns', async () => {
      const name = uniqueName('minimal');
      // A selector that matches no namespace: an empty one ({}) would fan out into the whole test cluster.
      const minimal = { namespaceSelectors: [{ matchLabels: { [selectorKey]: 'nothing' } }], storeRef: { kind: 'ClusterThalassaSecretStore', name: 'nowhere' }, data: [{ key: 'k', path: '/a/b' }] };
      parents.push(name);
      // Strict field validation, as kubectl does: an unknown field would be refused.
      const stored = (await h.objects.createClusterCustomObject({ group, version, plural, body: body(name, minimal), fieldValidation: 'Strict' })) as ClusterThalassaSecret;
      expect(stored.spec).toEqual(minimal);
      const kubectl = join(ensureControlPlaneBinaries(), 'kubectl');
      const env = { ...process.env, KUBECONFIG: inject('kubeconfigPath') };
      const explain = execFileSync(kubectl, ['explain', 'clusterthalassasecret.spec.namespaceSelectors'], { env, encoding: 'utf8' });
      expect(explain).toContain('Namespaces whose labels match any of these selectors');
      expect(execFileSync(kubectl, ['explain', 'clusterthalassasecret.status.failures'], { env, encoding: 'utf8' })).toContain('The first 10 failing namespaces');
      const table = execFileSync(kubectl, ['get', 'clusterthalassasecrets', name], { env, encoding: 'utf8' });
      expect(table.split('\n')[0]).toMatch(/NAME\s+READY\s+PROVISIONED\s+FAILED\s+AGE/);
    });
  });

  it('fans out to the selected namespaces, follows namespaces that start and stop matching, and puts back edited children', async ({ annotate }) => {
    const run = uniqueName('v');
    h.putSecret('/fan-out/basic', 'basic-v1');
    const [labelled1 = '', labelled2 = ''] = await createNamespaces('cts-label', 2, { [selectorKey]: run });
    const [byName = ''] = await createNamespaces('cts-name', 1);
    const [unrelated = '', later = ''] = await createNamespaces('cts-other', 2);
    const name = uniqueName('basic');
    await createParent(name, { namespaceSelectors: [{ matchLabels: { [selectorKey]: run } }], namespaces: [byName], data: [{ key: 'value', path: '/fan-out/basic' }] });

    for (const namespace of [labelled1, labelled2, byName]) await waitForValue(namespace, name, 'value', 'basic-v1');
    const provisioned = await waitForParent(name, (p) => ready(p)?.status === 'True', 'Ready');
    expect(provisioned.status).toMatchObject({ provisionedNamespaces: 3, failedNamespaces: 0 });
    expect(ready(provisioned)).toMatchObject({ reason: 'Provisioned', message: `Secret ${name} is in place in all 3 matching namespaces` });
    expect(provisioned.status?.failures).toBeUndefined();
    expect(await readChild(unrelated, name)).toBeUndefined();
    expect(await readSecret(unrelated, name)).toBeUndefined();

    // Each child: labelled, controlled by the parent, the spec without the selection.
    const child = await readChild(labelled1, name);
    expect(child?.metadata.labels?.[parentLabel]).toBe(name);
    const owner = (child?.metadata as { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] }).ownerReferences;
    expect(owner).toEqual([expect.objectContaining({ kind: 'ClusterThalassaSecret', name, uid: provisioned.metadata.uid, controller: true })]);
    expect(child?.spec).toEqual({ storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, data: [{ key: 'value', path: '/fan-out/basic' }] });

    // A namespace labelled later gets its Secret: from the Namespace watch, no polling.
    const labelledAt = performance.now();
    await labelNamespace(later, { [selectorKey]: run });
    await waitForValue(later, name, 'value', 'basic-v1');
    await report(annotate, `a namespace labelled later had its Secret after ${Math.round(performance.now() - labelledAt)} ms`);
    await waitForParent(name, (p) => p.status?.provisionedNamespaces === 4 && ready(p)?.status === 'True', 'four namespaces provisioned');

    // Edits by others are put back: a changed field, and a field the operator never set.
    await retryTransient(() =>
      h.objects.patchNamespacedCustomObject(
        { group, version, namespace: labelled2, plural: 'thalassasecrets', name, body: { spec: { data: [{ key: 'stolen', path: '/fan-out/other' }], refreshInterval: '1s' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    await waitFor(async () => JSON.stringify((await readChild(labelled2, name))?.spec) === JSON.stringify(child?.spec), {
      message: 'the edited ThalassaSecret to be put back',
    });
    await waitForValue(labelled2, name, 'value', 'basic-v1');
    // A deleted child comes back.
    await deleteRetrying(() => h.objects.deleteNamespacedCustomObject({ group, version, namespace: byName, plural: 'thalassasecrets', name }));
    await waitFor(async () => (await readChild(byName, name))?.metadata.uid !== undefined && (await readChild(byName, name))?.metadata.uid !== child?.metadata.uid, {
      message: 'the deleted ThalassaSecret to be created again',
    });
    await waitForValue(byName, name, 'value', 'basic-v1');

    // A namespace that stops matching loses its ThalassaSecret, and its Secret with it (creationPolicy Owner).
    await labelNamespace(labelled1, { [selectorKey]: null });
    await waitFor(async () => (await readChild(labelled1, name)) === undefined, { message: 'the ThalassaSecret of the unlabelled namespace to be deleted' });
    await waitFor(async () => (await readSecret(labelled1, name)) === undefined, { timeoutMs: 90_000, message: 'its Secret to be garbage-collected' });
    await waitForParent(name, (p) => p.status?.provisionedNamespaces === 3 && ready(p)?.status === 'True', 'three namespaces provisioned');

    // Removing the name from the list works the same way.
    await patchParent(name, { spec: { namespaces: null } });
    await waitFor(async () => (await readChild(byName, name)) === undefined, { message: 'the ThalassaSecret of the namespace no longer listed to be deleted' });
    await waitForParent(name, (p) => p.status?.provisionedNamespaces === 2, 'two namespaces provisioned');
  });

  it('passes a force-sync of the parent on to every namespace, which then takes the new version at once', async () => {
    const path = `/fan-out/${uniqueName('forced')}`;
    h.putSecret(path, 'forced-v1');
    const targets = await createNamespaces('cts-forced', 2);
    const name = uniqueName('forced');
    // Never polled: only a force-sync brings a new version.
    await createParent(name, { namespaces: targets, refreshInterval: '0', data: [{ key: 'value', path }] });
    for (const namespace of targets) await waitForValue(namespace, name, 'value', 'forced-v1');
    h.putSecret(path, 'forced-v2');
    await patchParent(name, { metadata: { annotations: { [forceSyncAnnotation]: 'now' } } });
    for (const namespace of targets) {
      await waitForValue(namespace, name, 'value', 'forced-v2');
      expect((await readChild(namespace, name))?.metadata.annotations?.[forceSyncAnnotation]).toBe('now');
    }
  });

  it('never deletes a Secret it merges into when the namespace stops matching, and keeps an Orphan Secret', async () => {
    const run = uniqueName('v');
    h.putSecret('/fan-out/merged', 'merged-v1');
    const [merged = '', orphaned = ''] = await createNamespaces('cts-keep', 2, { [selectorKey]: run });
    await createRetrying(() =>
      h.core.createNamespacedSecret({ namespace: merged, body: { metadata: { name: 'app-config' }, stringData: { own: 'theirs' } } }),
    );
    const mergeName = uniqueName('merge');
    const orphanName = uniqueName('orphan');
    await createParent(mergeName, {
      namespaces: [merged],
      data: [{ key: 'synced', path: '/fan-out/merged' }],
      target: { name: 'app-config', creationPolicy: 'Merge' },
    });
    await createParent(orphanName, { namespaces: [orphaned], data: [{ key: 'synced', path: '/fan-out/merged' }], target: { creationPolicy: 'Orphan' } });
    await waitForValue(merged, 'app-config', 'synced', 'merged-v1');
    await waitForValue(orphaned, orphanName, 'synced', 'merged-v1');

    await patchParent(mergeName, { spec: { namespaces: ['somewhere-else'] } });
    await patchParent(orphanName, { spec: { namespaces: ['somewhere-else'] } });
    await waitFor(async () => (await readChild(merged, mergeName)) === undefined, { message: 'the merging ThalassaSecret to be deleted' });
    await waitFor(async () => (await readChild(orphaned, orphanName)) === undefined, { message: 'the Orphan ThalassaSecret to be deleted' });
    await waitForParent(mergeName, (p) => ready(p)?.reason === 'NoMatchingNamespaces', 'no namespace left');
    const kept = await readSecret(merged, 'app-config');
    expect(kept?.metadata?.ownerReferences).toBeUndefined();
    expect(Buffer.from(kept?.data?.['own'] ?? '', 'base64').toString()).toBe('theirs');
    const orphan = await readSecret(orphaned, orphanName);
    expect(orphan?.metadata?.ownerReferences).toBeUndefined();
    expect(Buffer.from(orphan?.data?.['synced'] ?? '', 'base64').toString()).toBe('merged-v1');
  });

  it('never takes over a ThalassaSecret of the same name that it did not create, and reports that namespace', async () => {
    const run = uniqueName('v');
    h.putSecret('/fan-out/foreign', 'ours');
    const [clean = '', taken = ''] = await createNamespaces('cts-foreign', 2, { [selectorKey]: run });
    const name = uniqueName('foreign');
    const foreignSpec = { storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, data: [{ key: 'theirs', path: '/fan-out/foreign' }] };
    await createRetrying(() =>
      h.objects.createNamespacedCustomObject({
        group,
        version,
        namespace: taken,
        plural: 'thalassasecrets',
        body: { apiVersion: `${group}/${version}`, kind: 'ThalassaSecret', metadata: { name }, spec: foreignSpec },
      }),
    );
    await createParent(name, { namespaceSelectors: [{ matchLabels: { [selectorKey]: run } }], data: [{ key: 'value', path: '/fan-out/foreign' }] });
    await waitForValue(clean, name, 'value', 'ours');
    const failing = await waitForParent(name, (p) => p.status?.failedNamespaces === 1 && p.status.provisionedNamespaces === 1, 'one provisioned, one failing');
    expect(ready(failing)).toMatchObject({ status: 'False', reason: 'NamespacesFailing' });
    expect(failing.status?.failures).toEqual([
      { namespace: taken, reason: 'ThalassaSecretExists', message: expect.stringContaining(`ThalassaSecret ${taken}/${name} exists and was not created for this ClusterThalassaSecret`) as unknown },
    ]);
    const foreign = await readChild(taken, name);
    expect(foreign?.spec).toEqual(foreignSpec);
    expect(foreign?.metadata.labels?.[parentLabel]).toBeUndefined();
    expect((foreign?.metadata as { ownerReferences?: unknown }).ownerReferences).toBeUndefined();
    await waitForValue(taken, name, 'theirs', 'ours');
    expect(await secretValue(taken, name, 'value')).toBeUndefined();

    // Once it is gone, the namespace gets its own.
    await deleteRetrying(() => h.objects.deleteNamespacedCustomObject({ group, version, namespace: taken, plural: 'thalassasecrets', name }));
    await waitForParent(name, (p) => p.status?.provisionedNamespaces === 2 && ready(p)?.status === 'True', 'both namespaces provisioned');
    await waitForValue(taken, name, 'value', 'ours', 90_000);
  });

  it("applies the cluster store's conditions per namespace, and keeps the status bounded", async () => {
    const run = uniqueName('v');
    h.putSecret('/fan-out/bounded', 'bounded-v1');
    const conditional = await h.createClusterStore('conditional', { conditions: [{ namespaceSelector: { matchLabels: { [`${selectorKey}-allowed`]: 'yes' } } }] });
    const [allowed = ''] = await createNamespaces('cts-allowed', 1, { [selectorKey]: run, [`${selectorKey}-allowed`]: 'yes' });
    const refused = (await createNamespaces('cts-refused', 14, { [selectorKey]: run })).sort();
    const name = uniqueName('bounded');
    await createParent(name, {
      storeRef: { kind: 'ClusterThalassaSecretStore', name: conditional },
      namespaceSelectors: [{ matchLabels: { [selectorKey]: run } }],
      data: [{ key: 'value', path: '/fan-out/bounded' }],
    });
    await waitForValue(allowed, name, 'value', 'bounded-v1');
    const failing = await waitForParent(name, (p) => p.status?.failedNamespaces === 14 && p.status.provisionedNamespaces === 1, '14 failing, 1 provisioned', 90_000);
    expect(ready(failing)).toMatchObject({ status: 'False', reason: 'NamespacesFailing' });
    expect(ready(failing)?.message).toContain('14 of 15 namespaces failing, 1 provisioned');
    expect(failing.status?.failures).toHaveLength(10);
    expect(failing.status?.failures?.map((f) => f.namespace)).toEqual(refused.slice(0, 10));
    for (const failure of failing.status?.failures ?? []) {
      expect(failure.reason).toBe('StoreNotAllowed');
      expect(failure.message).toContain(`does not allow namespace ${failure.namespace}`);
    }
    for (const namespace of refused) expect(await readSecret(namespace, name)).toBeUndefined();
  });

  it('writes nothing and says why without storeRef when the default store is namespaced', async () => {
    await h.stopOperator();
    try {
      await h.startOperator({ defaultStore: { kind: 'ThalassaSecretStore', name: 'thalassa' } });
      const [namespace = ''] = await createNamespaces('cts-default', 1);
      const name = uniqueName('no-store-ref');
      parents.push(name);
      await createRetrying(() => h.objects.createClusterCustomObject({ group, version, plural, body: body(name, { namespaces: [namespace], data: [{ key: 'k', path: '/a/b' }] }) }));
      const parent = await waitForParent(name, (p) => ready(p)?.reason === 'NamespacedDefaultStore', 'NamespacedDefaultStore');
      expect(ready(parent)?.status).toBe('False');
      expect(ready(parent)?.message).toContain('ThalassaSecretStore/thalassa, a namespaced store');
      expect(await readChild(namespace, name)).toBeUndefined();
    } finally {
      await h.stopOperator();
      await h.startOperator();
    }
  });

  it('serves 500 namespaces with one reveal per version', { timeout: 1_500_000 }, async ({ annotate }) => {
    const count = 500;
    const run = uniqueName('v');
    const path = '/fan-out/scale/shared';
    const secretName = uniqueName('scale');
    h.putSecret(path, 'scale-v1');
    const createdAt = performance.now();
    const names = await createNamespaces('cts-scale', count, { [selectorKey]: run });
    const namespacesMs = performance.now() - createdAt;
    const inScale = new Set(names);

    /** The Secrets of that name in the 500 namespaces, by namespace: one list, not 500 reads. */
    const synced = async (): Promise<Map<string, string | undefined>> => {
      const list = await retryTransient(() =>
        h.core.listSecretForAllNamespaces({ labelSelector: 'secrets.thalassa.cloud/managed=true', fieldSelector: `metadata.name=${secretName}` }),
      );
      return new Map(
        list.items
          .filter((s) => inScale.has(s.metadata?.namespace ?? ''))
          .map((s) => [s.metadata?.namespace ?? '', s.metadata?.annotations?.['secrets.thalassa.cloud/synced-versions']]),
      );
    };
    const allHold = async (versionNumber: number) => {
      const found = await synced();
      return found.size === count && [...found.values()].every((v) => v === `${path}=${versionNumber}`) ? found : undefined;
    };

    /** Every Thalassa request but reveals: polls (lists, metadata reads) and anything else. */
    const otherRequests = () => {
      const byOperation = h.emulator.counters().byOperation;
      return Object.entries(byOperation)
        .filter(([operation]) => operation !== 'reveal')
        .reduce((sum, [, byStatus]) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    };
    const reveals = h.revealCount();
    const others = otherRequests();
    const started = performance.now();
    await createParent(secretName, { namespaceSelectors: [{ matchLabels: { [selectorKey]: run } }], refreshInterval: '2s', data: [{ key: 'value', path }] });
    await waitFor(async () => await allHold(1), { timeoutMs: 600_000, intervalMs: 500, message: `all ${count} namespaces to have their Secret` });
    const firstMs = performance.now() - started;
    const provisioned = await waitForParent(secretName, (p) => p.status?.provisionedNamespaces === count && ready(p)?.status === 'True', `${count} namespaces provisioned`, 600_000);
    const readyMs = performance.now() - started;
    expect(provisioned.status?.failedNamespaces).toBe(0);
    expect(JSON.stringify(provisioned.status).length).toBeLessThan(2_000);
    expect(h.revealCount() - reveals).toBe(1);
    // The children's polls are one group's, at most one per 2 s interval elapsed (plus a few for
    // the groups' random first poll): nothing is asked per namespace, which would be 500 or more.
    const pollsToReady = otherRequests() - others;
    expect(pollsToReady).toBeLessThanOrEqual(Math.ceil(readyMs / 2000) + 3);
    for (const sample of [names[0] ?? '', names[count - 1] ?? '']) expect(await secretValue(sample, secretName, 'value')).toBe('scale-v1');

    // A rotation: found by one poll of the shared group, revealed once, written into every namespace.
    const rotatedAt = performance.now();
    h.putSecret(path, 'scale-v2');
    await waitFor(async () => await allHold(2), { timeoutMs: 600_000, intervalMs: 500, message: `all ${count} namespaces to hold version 2` });
    const rotationMs = performance.now() - rotatedAt;
    expect(h.revealCount() - reveals).toBe(2);
    for (const sample of [names[0] ?? '', names[count - 1] ?? '']) expect(await secretValue(sample, secretName, 'value')).toBe('scale-v2');

    await report(
      annotate,
      `${count} namespaces (created in ${Math.round(namespacesMs)} ms): every Secret written ${Math.round(firstMs)} ms after the ClusterThalassaSecret was created, ` +
        `Ready after ${Math.round(readyMs)} ms; version 2 in every namespace ${Math.round(rotationMs)} ms after it was put; ` +
        `${h.revealCount() - reveals} reveals in all, ${pollsToReady} other Thalassa requests until Ready and ${otherRequests() - others} until version 2 was everywhere`,
    );
  });
});
