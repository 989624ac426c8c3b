import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment, type V1PodSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretReferences } from '../../src/controllers/secret-references.ts';
import { retryTransient, waitFor, watchEvents, type WatchHandle } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

interface Recorded {
  readonly kind: 'Pod' | 'Secret';
  readonly type: string;
  readonly name: string;
  readonly resourceVersion: number;
  readonly references: readonly string[];
}

/**
Every Pod and Secret event of a namespace, to replay in the order etcd wrote them: the two watches
deliver independently of each other, but every write has one etcd revision, which is the object's
resourceVersion on this (single etcd) control plane.
*/
class PodSecretLog {
  readonly events: Recorded[] = [];
  readonly #watches: WatchHandle[] = [];

  constructor(h: OperatorHarness) {
    const record = (kind: Recorded['kind']) => (type: string, object: unknown) => {
      const o = object as { metadata?: { name?: string; resourceVersion?: string }; spec?: V1PodSpec };
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
      this.events.push({
        kind,
        type,
        name: o.metadata?.name ?? '',
        resourceVersion: Number(o.metadata?.resourceVersion ?? 0),
        references: kind === 'Pod' ? secretReferences(o.spec as never).map((r) => r.name) : [],
      });
    };
    this.#watches.push(watchEvents(h.kc, `/api/v1/namespaces/${h.namespace}/pods`, record('Pod')));
    this.#watches.push(watchEvents(h.kc, `/api/v1/namespaces/${h.namespace}/secrets`, record('Secret')));
  }

  /** Each moment, in etcd order, at which a Pod existed that named a Secret that did not. */
  violations(): string[] {
    const secrets = new Set<string>();
    const pods = new Map<string, readonly string[]>();
    const found: string[] = [];
    const seen = new Set<string>();
    for (const event of [...this.events].sort((a, b) => a.resourceVersion - b.resourceVersion)) {
      const key = `${event.kind}/${event.type}/${event.name}/${event.resourceVersion}`;
      if (seen.has(key)) continue; // a re-opened watch lists again
      seen.add(key);
      const live = event.kind === 'Pod' ? pods : undefined;
      if (event.kind === 'Secret') {
        if (event.type === 'DELETED') secrets.delete(event.name);
        else secrets.add(event.name);
      } else if (event.type === 'DELETED') live?.delete(event.name);
      else live?.set(event.name, event.references);
      for (const [pod, references] of pods) {
        for (const name of references) if (!secrets.has(name)) found.push(`at ${event.resourceVersion}: Pod ${pod} names missing Secret ${name}`);
      }
    }
    return found;
  }

  stop(): void {
    for (const watch of this.#watches) watch.stop();
  }
}

describe('target.immutable', () => {
  let h: OperatorHarness;
  let apps: AppsV1Api;

  beforeAll(async () => {
    h = await OperatorHarness.start({ operator: { restartCoalesceMs: 500 } });
    apps = h.kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await h.stop();
  });

  it('without restart targets: writes an immutable Secret, and says how to take a new version instead of losing the old one', async () => {
    h.putSecret('/immutable/plain', 'v1');
    await h.createThalassaSecret('plain', { refreshInterval: '1s', data: [{ key: 'password', path: '/immutable/plain' }], target: { immutable: true } });
    await h.waitForReason('plain', 'Synced');
    expect((await h.readSecret('plain'))?.immutable).toBe(true);

    h.putSecret('/immutable/plain', 'v2');
    const outdated = await h.waitForReason('plain', 'ImmutableSecretOutdated');
    const message = outdated.status?.conditions?.[0]?.message ?? '';
    expect(message).toContain('Delete Secret plain');
    expect(message).toContain('rolloutRestartTargets');
    expect(await h.secretData('plain')).toEqual({ password: 'v1' });

    // The way out it names: the deleted Secret is written again, with the new version, immutable.
    await h.deleteSecret('plain');
    await h.waitForData('plain', { password: 'v2' });
    expect((await h.readSecret('plain'))?.immutable).toBe(true);
    await h.waitForReason('plain', 'Synced');
  });

  it('turned off: the frozen Secret is written anew as an ordinary one, with the same data', async () => {
    h.putSecret('/immutable/thaw', 'v1');
    await h.createThalassaSecret('thaw', { data: [{ key: 'password', path: '/immutable/thaw' }], target: { immutable: true } });
    await h.waitForReason('thaw', 'Synced');
    const frozen = await h.readSecret('thaw');
    expect(frozen?.immutable).toBe(true);
    await h.patchThalassaSecret('thaw', { spec: { target: { immutable: null } } });
    const thawed = await waitFor(async () => {
      const secret = await h.readSecret('thaw');
      return secret && secret.metadata?.uid !== frozen?.metadata?.uid ? secret : undefined;
    }, { message: 'the Secret to be written anew' });
    expect(thawed.immutable).toBeUndefined();
    expect(await h.secretData('thaw')).toEqual({ password: 'v1' });
  });

  it('is refused with creationPolicy Merge at admission', async () => {
    await expect(
      h.createThalassaSecret('merge-frozen', { data: [{ key: 'k', path: '/immutable/x' }], target: { immutable: true, creationPolicy: 'Merge' } }),
    ).rejects.toThrow(/immutable cannot be set with creationPolicy Merge/);
  });

  it('with restart targets: a Secret per content, workloads moved to it, the old one removed only once no pod needs it', async () => {
    const log = new PodSecretLog(h);
    try {
      const deployment = (name: string, strategy: 'Recreate' | 'RollingUpdate'): V1Deployment => ({
        metadata: { name },
        spec: {
          replicas: 0,
          strategy: { type: strategy },
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `example.invalid/${name}:1`,
                  env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
                  envFrom: [{ secretRef: { name: 'db' } }],
                },
              ],
              volumes: [{ name: 'creds', secret: { secretName: 'db' } }],
            },
          },
        },
      });
      // Workloads written for the Secret's logical name, before it exists, with no pods yet.
      for (const [name, strategy] of [['recreate', 'Recreate'], ['rolling', 'RollingUpdate']] as const) {
        await retryTransient(() => apps.createNamespacedDeployment({ namespace: h.namespace, body: deployment(name, strategy) }));
      }
      h.putSecret('/immutable/db', 'v1');
      await h.createThalassaSecret('db', {
        refreshInterval: '1s',
        data: [{ key: 'password', path: '/immutable/db' }],
        target: { immutable: true },
        rolloutRestartTargets: [
          { kind: 'Deployment', name: 'recreate' },
          { kind: 'Deployment', name: 'rolling' },
        ],
      });
      const first = (await h.waitForReason('db', 'Synced')).status?.secretName ?? '';
      expect(first).toMatch(/^db-[0-9a-f]{10}$/);
      expect((await h.readSecret(first))?.immutable).toBe(true);
      expect(await h.readSecret('db')).toBeUndefined();
      const secretNames = async (name: string) =>
        secretReferences((await retryTransient(() => apps.readNamespacedDeployment({ namespace: h.namespace, name }))).spec?.template.spec as never).map((r) => r.name);
      for (const name of ['recreate', 'rolling']) {
        await waitFor(async () => (await secretNames(name)).every((n) => n === first), { message: `${name} to be pointed at ${first}` });
      }
      // Now the pods start, on the first generation.
      for (const name of ['recreate', 'rolling']) {
        await retryTransient(() =>
          apps.patchNamespacedDeploymentScale({ namespace: h.namespace, name, body: { spec: { replicas: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
        );
      }
      const podsOf = async (app: string) =>
        (await retryTransient(() => h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: `app=${app}` }))).items.filter((p) => !p.metadata?.deletionTimestamp);
      for (const name of ['recreate', 'rolling']) await waitFor(async () => (await podsOf(name)).length === 1, { message: `a pod of ${name}` });

      h.putSecret('/immutable/db', 'v2');
      const second = await waitFor(async () => {
        const name = (await h.getThalassaSecret('db')).status?.secretName;
        return name !== undefined && name !== first ? name : undefined;
      }, { message: 'a second generation' });
      expect(await h.secretData(second)).toEqual({ password: 'v2' });
      expect(await h.secretData(first)).toEqual({ password: 'v1' });
      for (const name of ['recreate', 'rolling']) {
        await waitFor(async () => (await secretNames(name)).every((n) => n === second), { message: `${name} to be pointed at ${second}` });
      }
      // Recreate replaces its pod; RollingUpdate keeps the old pod until the new one is Ready, which
      // no kubelet says here: the first generation must outlive the old pod.
      await waitFor(async () => (await podsOf('recreate')).every((p) => secretReferences(p.spec as never).every((r) => r.name === second)) && (await podsOf('recreate')).length === 1, {
        message: 'the recreate pod to run on the second generation',
      });
      const fresh = await waitFor(async () => {
        const pods = await podsOf('rolling');
        return pods.length === 2 ? pods.find((p) => secretReferences(p.spec as never).every((r) => r.name === second)) : undefined;
      }, { message: 'the rolling update to start a new pod beside the old one' });
      // The operator looks, twice (once may have been before the new pod), and keeps the first generation.
      const looked = h.logs.length;
      await waitFor(() => h.logs.slice(looked).filter((l) => l.includes('earlier Secrets kept') && l.includes(first)).length >= 2, {
        message: 'the operator to check whether the first generation is still needed',
      });
      expect(await h.readSecret(first)).toBeDefined();

      // Act as the kubelet: the new pod is Ready, the Deployment scales its old ReplicaSet down.
      const now = new Date(Date.now() - 1000);
      await retryTransient(() =>
        h.core.patchNamespacedPodStatus(
          {
            namespace: h.namespace,
            name: fresh.metadata?.name ?? '',
            body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      );
      await waitFor(async () => (await podsOf('rolling')).length === 1, { message: 'the old rolling pod to go', timeoutMs: 60_000 });
      await waitFor(async () => (await h.readSecret(first)) === undefined, { message: `${first} to be removed`, timeoutMs: 60_000 });
      expect(await h.readSecret(second)).toBeDefined();
      expect((await h.events()).some((e) => e.includes(`deleted Secret ${first}: superseded by ${second}`))).toBe(true);

      await new Promise((resolve) => setTimeout(resolve, 1000)); // the watches catch up
      expect(log.events.some((e) => e.kind === 'Pod')).toBe(true);
      expect(log.violations()).toEqual([]);
    } finally {
      log.stop();
    }
  });
});
