import { describe, expect, it } from 'vitest';
import type { ClusterThalassaSecretStore, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { createLogger } from '../observability/logger.ts';
import { assertCaBundle, assertSafeUrl, StoreResolver } from './store-resolver.ts';
import { SyncError } from './sync-error.ts';

/**
The checks a store must pass before any request leaves. The Kubernetes client points at a port
nothing listens on: a check that let a request through would fail with a connection error, not
with the reason asserted here.
*/
const unreachableKube = new KubeClient({
  server: new URL('http://127.0.0.1:9'),
  ca: undefined,
  cert: undefined,
  key: undefined,
  insecureSkipTlsVerify: false,
  tlsServerName: undefined,
  authorization: () => Promise.resolve(undefined),
  description: 'nowhere',
});

function resolver(): StoreResolver {
  return new StoreResolver({
    kube: unreachableKube,
    stores: { get: () => undefined },
    clusterStores: { get: () => undefined },
    defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'default' },
    operatorIdentity: {},
    clientDefaults: {},
    defaultRateLimit: { requestsPerSecond: 1, burst: 1 },
    logger: createLogger({ level: 'silent' }),
  });
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
  it("never lets a namespaced store read a credential of another namespace, even one admission did not check", async () => {
    const store: ThalassaSecretStore = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecretStore',
      metadata: { name: 'sneaky', namespace: 'team-a' },
      spec: {
        organisation: 'org-1',
        region: 'nl-01',
        // A namespace in a namespaced store's ref: what the CRD's CEL rule refuses.
        auth: { personalAccessToken: { secretRef: { name: 'their-token', key: 'token', namespace: 'team-b' } } },
      },
    };
    expect(await reasonOf(resolver().clientFor(store))).toEqual({
      reason: 'InvalidStore',
      message: 'ThalassaSecretStore/team-a/sneaky: a namespaced store can only use Secrets of its own namespace, not team-b',
    });
  });

  it.for([
    ['without serviceAccountID', { serviceAccountRef: { name: 'app' } }, 'must set serviceAccountID:'],
    ['without serviceAccountRef', { serviceAccountID: 'sa-tenant' }, 'must set serviceAccountRef:'],
    ['with neither', {}, 'must set serviceAccountID and serviceAccountRef:'],
  ] as const)("never lends the operator's own identity to a namespaced workload-identity store %s", async ([, workloadIdentity, fragment]) => {
    const withIdentity = new StoreResolver({
      kube: unreachableKube,
      stores: { get: () => undefined },
      clusterStores: { get: () => undefined },
      defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'default' },
      // The operator has an identity of its own, which the store must not fall back to.
      operatorIdentity: { serviceAccountId: 'sa-operator', subjectTokenFile: '/var/run/secrets/thalassa/token' },
      clientDefaults: {},
      defaultRateLimit: { requestsPerSecond: 1, burst: 1 },
      logger: createLogger({ level: 'silent' }),
    });
    // What admission refuses, as an object stored before the rule would be.
    const store: ThalassaSecretStore = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecretStore',
      metadata: { name: 'borrower', namespace: 'team-a' },
      spec: { organisation: 'org-1', region: 'nl-01', auth: { workloadIdentity } },
    };
    const { reason, message } = await reasonOf(withIdentity.clientFor(store));
    expect(reason).toBe('InvalidStore');
    expect(message).toContain(`ThalassaSecretStore/team-a/borrower: workloadIdentity of a namespaced store ${fragment}`);
    expect(message).toContain("only cluster stores may use the operator's own identity");
  });

  it('reads a cluster store credential from the namespace its ref names', async () => {
    const store = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ClusterThalassaSecretStore',
      metadata: { name: 'shared' },
      spec: { organisation: 'org-1', region: 'nl-01', auth: { personalAccessToken: { secretRef: { name: 'token', key: 'token', namespace: 'ops' } } } },
    } as ClusterThalassaSecretStore;
    // It gets as far as asking the API server for ops/token, which is not there.
    const { reason, message } = await reasonOf(resolver().clientFor(store));
    expect(reason).toBe('CredentialsNotFound');
    expect(message).toContain('cannot read Secret ops/token');
  });
});

describe('assertSafeUrl', () => {
  it.for([
    ['https://api.thalassa.cloud', false],
    ['http://127.0.0.1:8080', false],
    ['http://localhost:8080', false],
    ['http://[::1]:8080', false],
    ['http://thalassa.internal', true],
  ] as const)('allows %s (allowInsecureHTTP %s)', ([url, insecure]) => {
    expect(() => assertSafeUrl(url, insecure, 'store')).not.toThrow();
  });

  it.for(['http://thalassa.internal', 'ftp://127.0.0.1', 'not a url'])('refuses %s', (url) => {
    expect(() => assertSafeUrl(url, false, 'store')).toThrow(SyncError);
  });
});

describe('assertCaBundle', () => {
  it('accepts no bundle and an empty one', () => {
    expect(() => assertCaBundle(undefined, 'store')).not.toThrow();
    expect(() => assertCaBundle('  \n', 'store')).not.toThrow();
  });

  it('refuses text without a certificate, and a certificate block that cannot be read', () => {
    expect(() => assertCaBundle('just some text', 'store')).toThrow('caBundle holds no PEM certificate');
    expect(() => assertCaBundle('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----', 'store')).toThrow(
      'certificate 1 of caBundle cannot be read',
    );
  });
});
