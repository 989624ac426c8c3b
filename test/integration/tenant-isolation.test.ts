import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { ThalassaSecret, ThalassaSecretSpec } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { defaultOperatorSettings } from '../../src/operator.ts';
import { createNamespace, deleteNamespace, uniqueName, waitFor } from '../support/kube.ts';
import { group, OperatorHarness, region } from '../support/operator-harness.ts';
import { RecordingProxy, type ProxiedRequest } from '../support/recording-proxy.ts';

/**
Tenants that share an operator (and sometimes a store) cannot stall, speed up or borrow from each
other: a namespace a shared store refuses does not stop polling for the namespaces it serves, a
short refreshInterval costs only its own resource, and admission refuses what would let one
tenant use the operator's own identity or poll without bound.
*/

const version = 'v1alpha1';

/** Whether a Thalassa request asked about `path`: its metadata, or a list of a prefix over it (never a reveal). */
function asksAbout(request: ProxiedRequest, path: string): boolean {
  const url = new URL(request.url, 'http://proxy');
  if (url.pathname === `/v1/secrets/${region}/secret${path}`) return true;
  const prefix = url.searchParams.get('pathPrefix');
  return url.pathname === `/v1/secrets/${region}/secrets` && prefix !== null && path.startsWith(prefix);
}

/** The API server's answer to a create that it refused: status code and message. */
async function refusal(create: () => Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  return await create().then(
    () => undefined,
    (error: unknown) => {
      const { code, body } = error as { code: number; body: string };
      return { code, message: (JSON.parse(body) as { message: string }).message };
    },
  );
}

describe('tenant isolation', () => {
  let h: OperatorHarness | undefined;
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    await h?.stop();
    h = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('keeps rotating for an allowed namespace while a refused one uses the same cluster store', async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    const harness = h;
    const refused = await createNamespace(harness.kc, 'refused');
    cleanups.push(async () => await deleteNamespace(harness.kc, refused));
    const store = await harness.createClusterStore('shared', { conditions: [{ namespaces: [harness.namespace] }] });
    await harness.startOperator({ namespaces: [harness.namespace, refused] });
    harness.putSecret('/tenants/shared', 'v1');
    const spec: ThalassaSecretSpec = { storeRef: { kind: 'ClusterThalassaSecretStore', name: store }, refreshInterval: '1s', data: [{ key: 'value', path: '/tenants/shared' }] };

    // The refused resource comes first, so it is the first one the poller tracks for the store.
    await harness.objects.createNamespacedCustomObject({
      group,
      version,
      namespace: refused,
      plural: 'thalassasecrets',
      body: { apiVersion: `${group}/${version}`, kind: 'ThalassaSecret', metadata: { name: 'outsider' }, spec },
    });
    const readyOfOutsider = async () => {
      const resource = (await harness.objects.getNamespacedCustomObject({ group, version, namespace: refused, plural: 'thalassasecrets', name: 'outsider' })) as ThalassaSecret;
      return resource.status?.conditions?.find((c) => c.type === 'Ready');
    };
    await waitFor(async () => (await readyOfOutsider())?.reason === 'StoreNotAllowed', { timeoutMs: 30_000, message: 'the refused resource to report StoreNotAllowed' });

    await harness.createThalassaSecret('insider', spec);
    await harness.waitForData('insider', { value: 'v1' });
    harness.putSecret('/tenants/shared', 'v2');
    await harness.waitForData('insider', { value: 'v2' });
    harness.putSecret('/tenants/shared', 'v3');
    await harness.waitForData('insider', { value: 'v3' });

    const outsider = await readyOfOutsider();
    expect(outsider?.status).toBe('False');
    expect(outsider?.reason).toBe('StoreNotAllowed');
    expect(outsider?.message).toContain(`does not allow namespace ${refused}`);
    expect(await harness.core.readNamespacedSecret({ name: 'outsider', namespace: refused }).catch(() => undefined)).toBeUndefined();
  });

  it("never polls a long-interval resource's secret at the pace of a short-interval resource next to it", async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    const harness = h;
    const proxy = await RecordingProxy.start({ url: harness.emulator.url });
    cleanups.push(async () => await proxy.stop());
    await harness.createStore('behind-proxy', { apiURL: proxy.url });
    await harness.startOperator();
    harness.putSecret('/tenants/cost/fast', 'fast-v1');
    harness.putSecret('/tenants/cost/slow', 'slow-v1');
    // Two tenants' resources whose secrets share a prefix group.
    await harness.createThalassaSecret('fast', { storeRef: { name: 'behind-proxy' }, refreshInterval: '1s', data: [{ key: 'value', path: '/tenants/cost/fast' }] });
    await harness.createThalassaSecret('slow', { storeRef: { name: 'behind-proxy' }, refreshInterval: '24h', data: [{ key: 'value', path: '/tenants/cost/slow' }] });
    await harness.waitForReason('fast', 'Synced');
    await harness.waitForReason('slow', 'Synced');

    const from = proxy.requests.length;
    const since = () => proxy.requests.slice(from);
    await waitFor(() => since().filter((r) => asksAbout(r, '/tenants/cost/fast')).length >= 5, {
      timeoutMs: 60_000,
      message: () => `five polls of /tenants/cost/fast (saw ${since().filter((r) => asksAbout(r, '/tenants/cost/fast')).length})`,
    });
    // Every 24 hours, from a random point of the first 24: at most one poll can fall in this window.
    expect(since().filter((r) => asksAbout(r, '/tenants/cost/slow')).length).toBeLessThanOrEqual(1);
  });

  it('refuses a refreshInterval below the minimum at admission, and accepts "0"', async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    const harness = h;
    const create = async (refreshInterval: string): Promise<unknown> =>
      await harness.objects.createNamespacedCustomObject({
        group,
        version,
        namespace: harness.namespace,
        plural: 'thalassasecrets',
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'ThalassaSecret',
          metadata: { name: uniqueName('interval') },
          spec: { refreshInterval, data: [{ key: 'k', path: '/a/b' }] },
        },
      });
    for (const tooShort of ['1ms', '500ms', '0.5s']) {
      const refused = await refusal(() => create(tooShort));
      expect(refused, `${tooShort} was accepted`).toBeDefined();
      expect(refused?.code).toBe(422);
      expect(refused?.message).toContain('spec.refreshInterval');
      expect(refused?.message).toContain('refreshInterval must be at least 1s');
    }
    for (const allowed of ['0', '1s', '1000ms', '5m', '1h30m']) {
      expect(await refusal(() => create(allowed)), `${allowed} was refused`).toBeUndefined();
    }
  });

  it("refuses a namespaced workload-identity store that does not name its Thalassa service account", async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    const harness = h;
    const create = async (workloadIdentity: Record<string, unknown>): Promise<unknown> =>
      await harness.objects.createNamespacedCustomObject({
        group,
        version,
        namespace: harness.namespace,
        plural: 'thalassasecretstores',
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'ThalassaSecretStore',
          metadata: { name: uniqueName('identity') },
          spec: { region, organisation: 'org', auth: { workloadIdentity } },
        },
      });
    const refused = await refusal(() => create({ serviceAccountRef: { name: 'app' } }));
    expect(refused?.code).toBe(422);
    expect(refused?.message).toContain('spec.auth.workloadIdentity');
    expect(refused?.message).toContain('must name serviceAccountID');
    expect(await refusal(() => create({ serviceAccountID: 'sa-app', serviceAccountRef: { name: 'app' } }))).toBeUndefined();
  });

  it('re-queues the resources of a namespaced default store when that store is edited', async () => {
    h = await OperatorHarness.start({
      operator: {
        defaultStore: { kind: 'ThalassaSecretStore', name: 'tenant-default' },
        // A failed sync would retry only after ten minutes: what comes sooner comes from the store's edit.
        queue: { ...defaultOperatorSettings.queue, baseDelayMs: 600_000, maxDelayMs: 600_000 },
      },
    });
    const harness = h;
    harness.putSecret('/tenants/default', 'by-default');
    await harness.createStore('tenant-default', { auth: { personalAccessToken: { secretRef: { name: 'not-yet', key: 'token' } } } });
    await harness.createThalassaSecret('implicit', { storeRef: undefined, data: [{ key: 'value', path: '/tenants/default' }] });
    const failing = await harness.waitForReason('implicit', 'CredentialsNotFound');
    expect(failing.spec.storeRef).toBeUndefined();

    await harness.objects.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace: harness.namespace,
        plural: 'thalassasecretstores',
        name: 'tenant-default',
        body: { spec: { auth: { personalAccessToken: { secretRef: { name: 'thalassa-token', key: 'token' } } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await harness.waitForReason('implicit', 'Synced');
    expect(await harness.secretData('implicit')).toEqual({ value: 'by-default' });
  });
});
