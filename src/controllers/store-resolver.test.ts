import { describe, expect, it } from 'vitest';
import type { ClusterThalassaSecretStore, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { loopbackConnection } from '../../test/support/loopback-api.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { createLogger } from '../observability/logger.ts';
import { StoreResolver } from './store-resolver.ts';
import { SyncError } from './sync-error.ts';

/**
The facade over store lookup, credentials and clients (their own tests: store-lookup.test.ts,
credentials.test.ts, thalassa-clients.test.ts). The Kubernetes client points at a port nothing
listens on: a check that let a request through would fail with a connection error, not with the
reason asserted here.
*/
const unreachableKube = new KubeClient(loopbackConnection(new URL('http://127.0.0.1:9'), { description: 'nowhere' }), { retry: false });

function resolver(stores: ThalassaSecretStore[] = [], clusterStores: ClusterThalassaSecretStore[] = []): StoreResolver {
  return new StoreResolver({
    kube: unreachableKube,
    stores: { get: (key) => stores.find((s) => `${s.metadata.namespace ?? ''}/${s.metadata.name}` === key) },
    clusterStores: { get: (key) => clusterStores.find((s) => s.metadata.name === key) },
    defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'default' },
    operatorIdentity: {},
    clientDefaults: {},
    defaultRateLimit: { requestsPerSecond: 1, burst: 1 },
    logger: createLogger({ level: 'silent' }),
  });
}

function resource(storeRef?: ThalassaSecret['spec']['storeRef']): ThalassaSecret {
  return {
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecret',
    metadata: { name: 'app', namespace: 'team-a' },
    spec: { ...(storeRef ? { storeRef } : {}), data: [{ key: 'k', path: '/p' }] },
  };
}

async function reasonOf(promise: Promise<unknown>): Promise<{ reason: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return { reason: error.reason, message: error.message };
}

describe('StoreResolver', () => {
  it('names the default store when a resource without storeRef has none', async () => {
    expect(await reasonOf(resolver().resolveFor(resource()))).toEqual({
      reason: 'StoreNotFound',
      message: 'ClusterThalassaSecretStore default does not exist (the default store: this resource has no storeRef)',
    });
  });

  it("refuses a cluster store to a namespace its conditions do not name, before reading any credential", async () => {
    const store = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ClusterThalassaSecretStore',
      metadata: { name: 'shared' },
      spec: { organisation: 'org-1', region: 'nl-01', conditions: [{ namespaces: ['team-b'] }], auth: { personalAccessToken: { secretRef: { name: 't', key: 'k', namespace: 'ops' } } } },
    } as ClusterThalassaSecretStore;
    expect(await reasonOf(resolver([], [store]).resolveFor(resource({ kind: 'ClusterThalassaSecretStore', name: 'shared' })))).toEqual({
      reason: 'StoreNotAllowed',
      message: 'ClusterThalassaSecretStore shared does not allow namespace team-a (see its spec.conditions)',
    });
  });

  it('says an unreachable API server is transient, not that the credential is missing', async () => {
    const store: ThalassaSecretStore = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecretStore',
      metadata: { name: 'own', namespace: 'team-a' },
      spec: { organisation: 'org-1', region: 'nl-01', auth: { personalAccessToken: { secretRef: { name: 'token', key: 'token' } } } },
    };
    const { reason, message } = await reasonOf(resolver([store]).resolveFor(resource({ name: 'own' })));
    expect(reason).toBe('KubernetesUnavailable');
    expect(message).toContain('reading credential Secret team-a/token');
  });
});
