import { describe, expect, it } from 'vitest';
import { useLoopbackApi } from '../../test/support/loopback-api.ts';
import type { ClusterThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { StoreLookup } from './store-lookup.ts';
import { SyncError } from './sync-error.ts';

const loopback = useLoopbackApi();

/** An API server answering every Namespace read with `code` (200: the labels). */
async function lookupAnswering(code: number, labels: Record<string, string> = {}): Promise<{ lookup: StoreLookup; requests: string[] }> {
  const requests: string[] = [];
  const url = await loopback.listen((request, response) => {
    requests.push(request.url ?? '');
    request.resume();
    const body = code === 200 ? { kind: 'Namespace', metadata: { name: 'team-a', labels } } : { kind: 'Status', code, reason: 'Forbidden', message: 'namespaces "team-a" is forbidden' };
    response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const kube = loopback.client(url, { retry: false });
  const store = {
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ClusterThalassaSecretStore',
    metadata: { name: 'shared' },
    spec: { organisation: 'o', region: 'r', conditions: [{ namespaceSelector: { matchLabels: { team: 'payments' } } }], auth: { accessToken: { secretRef: { name: 't', key: 'k', namespace: 'ops' } } } },
  } as ClusterThalassaSecretStore;
  const lookup = new StoreLookup({ kube, stores: { get: () => undefined }, clusterStores: { get: (name) => (name === 'shared' ? store : undefined) }, defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'shared' } });
  return { lookup, requests };
}

const resource: ThalassaSecret = { apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind: 'ThalassaSecret', metadata: { name: 'app', namespace: 'team-a' }, spec: { data: [{ key: 'k', path: '/p' }] } };

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error.reason;
}

describe('StoreLookup', () => {
  it("admits a namespace by its labels, read once for the TTL", async () => {
    const { lookup, requests } = await lookupAnswering(200, { team: 'payments' });
    expect((await lookup.storeFor(resource)).metadata.name).toBe('shared');
    await lookup.storeFor(resource);
    expect(requests).toEqual(['/api/v1/namespaces/team-a']);
  });

  it('refuses a namespace whose labels do not match', async () => {
    const { lookup } = await lookupAnswering(200, { team: 'billing' });
    expect(await reasonOf(lookup.storeFor(resource))).toBe('StoreNotAllowed');
  });

  it.for([
    [403, 'ReadFailed'],
    [429, 'KubernetesThrottled'],
    [503, 'KubernetesUnavailable'],
  ] as const)('reports a Namespace read answered %s as %s, not as a refusal of the store', async ([code, reason]) => {
    const { lookup } = await lookupAnswering(code);
    expect(await reasonOf(lookup.storeFor(resource))).toBe(reason);
  });
});
