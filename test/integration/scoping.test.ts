import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace } from '../support/kube.ts';
import { OperatorHarness, operatorToken } from '../support/operator-harness.ts';

describe('store scoping', () => {
  let h: OperatorHarness;
  let other: string;
  const createClusterStore = async (conditions?: unknown[]) => await h.createClusterStore('cluster-store', conditions ? { conditions } : {});

  beforeAll(async () => {
    // Credentials are cached for an hour here: a rotated one is picked up only because a 401 drops it.
    h = await OperatorHarness.start({ namespaceLabels: { team: 'payments' }, operator: { credentialTtlMs: 3_600_000 } });
    // A second namespace with its own store: the harness's resources must not reach it.
    other = await createNamespace(h.kc, 'other');
    await h.core.createNamespacedSecret({ namespace: other, body: { metadata: { name: 'thalassa-token' }, stringData: { token: operatorToken } } });
    h.putSecret('/scoping/value', 'scoped');
  });

  afterAll(async () => {
    await deleteNamespace(h.kc, other);
    await h.stop();
  });

  it('only finds a namespaced store in the resource\'s own namespace', async () => {
    await h.createStore('elsewhere', {}, other);
    await h.createThalassaSecret('cross-namespace', { storeRef: { name: 'elsewhere' }, data: [{ key: 'v', path: '/scoping/value' }] });
    const resource = await h.waitForReason('cross-namespace', 'StoreNotFound');
    expect(resource.status?.conditions?.[0]?.message).toContain(`ThalassaSecretStore ${h.namespace}/elsewhere does not exist`);
    expect(await h.readSecret('cross-namespace')).toBeUndefined();
  });

  it('refuses a cluster store to a namespace its conditions do not allow', async () => {
    const name = await createClusterStore([{ namespaceSelector: { matchLabels: { team: 'billing' } } }, { namespaces: ['somewhere-else'] }]);
    await h.createThalassaSecret('not-allowed', {
      storeRef: { kind: 'ClusterThalassaSecretStore', name },
      data: [{ key: 'v', path: '/scoping/value' }],
    });
    const resource = await h.waitForReason('not-allowed', 'StoreNotAllowed');
    expect(resource.status?.conditions?.[0]?.message).toContain(`does not allow namespace ${h.namespace}`);
    expect(await h.readSecret('not-allowed')).toBeUndefined();
  });

  it('serves a cluster store to a namespace whose labels match', async () => {
    const name = await createClusterStore([{ namespaceSelector: { matchLabels: { team: 'payments' } } }]);
    await h.createThalassaSecret('allowed', {
      storeRef: { kind: 'ClusterThalassaSecretStore', name },
      data: [{ key: 'v', path: '/scoping/value' }],
    });
    await h.waitForReason('allowed', 'Synced');
    expect(await h.secretData('allowed')).toEqual({ v: 'scoped' });
  });

  it('reports missing credentials on the store and the resource', async () => {
    await h.createStore('no-credentials', { auth: { personalAccessToken: { secretRef: { name: 'missing', key: 'token' } } } });
    await h.createThalassaSecret('no-credentials', { storeRef: { name: 'no-credentials' }, data: [{ key: 'v', path: '/scoping/value' }] });
    const resource = await h.waitForReason('no-credentials', 'CredentialsNotFound');
    expect(resource.status?.conditions?.[0]?.message).toContain(`credential Secret ${h.namespace}/missing does not exist`);
  });

  it('reads a credential again after a 401, so a rotated token is used at the next retry', async () => {
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'rotating-token' }, stringData: { token: 'revoked-token' } } });
    await h.createStore('rotating', { auth: { personalAccessToken: { secretRef: { name: 'rotating-token', key: 'token' } } } });
    await h.createThalassaSecret('rotating', { storeRef: { name: 'rotating' }, data: [{ key: 'v', path: '/scoping/value' }] });
    await h.waitForReason('rotating', 'AuthenticationFailed');
    await h.core.replaceNamespacedSecret({
      name: 'rotating-token',
      namespace: h.namespace,
      body: { metadata: { name: 'rotating-token' }, stringData: { token: operatorToken } },
    });
    await h.waitForReason('rotating', 'Synced');
    expect(await h.secretData('rotating')).toEqual({ v: 'scoped' });
  });

  it('refuses plain http to a host that is not loopback', async () => {
    await h.createStore('plain-http', { apiURL: 'http://thalassa.example.com' });
    await h.createThalassaSecret('plain-http', { storeRef: { name: 'plain-http' }, data: [{ key: 'v', path: '/scoping/value' }] });
    const resource = await h.waitForReason('plain-http', 'InvalidStore');
    expect(resource.status?.conditions?.[0]?.message).toContain('apiURL must use https');
  });
});
