import { describe, expect, it } from 'vitest';
import { statusAnswer as status, useLoopbackApi, type Answer } from '../../test/support/loopback-api.ts';
import type { ClusterThalassaSecretStore, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { Credentials, type OperatorIdentity } from './credentials.ts';
import { SyncError } from './sync-error.ts';

/**
How reading a credential fails, by what the Kubernetes API answers. The answers come from a local
HTTP server speaking the API server's Status objects, through the operator's real client; what a
real API server decides (RBAC, throttling) is shown in test/integration/error-kinds.test.ts.
*/

const loopback = useLoopbackApi();

function secret(data: Record<string, string>): Answer {
  return (_request, response) => {
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Secret', data: encoded }));
  };
}

/** A Credentials reading from an API server that gives `answers` in turn (the last one again and again). */
async function credentialsAnswering(
  answers: Answer[],
  options: { operatorIdentity?: OperatorIdentity; now?: () => number } = {},
): Promise<{ credentials: Credentials; requests: string[] }> {
  const requests: string[] = [];
  const url = await loopback.listen((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    request.resume();
    request.on('end', () => (answers[Math.min(requests.length, answers.length) - 1] ?? status(500, 'InternalError', 'no answer'))(request, response));
  });
  return { credentials: new Credentials({ kube: loopback.client(url, { retry: false }), operatorIdentity: options.operatorIdentity ?? {}, ...(options.now ? { now: options.now } : {}) }), requests };
}

const clusterStore = {
  apiVersion: 'secrets.thalassa.cloud/v1alpha1',
  kind: 'ClusterThalassaSecretStore',
  metadata: { name: 'shared' },
  spec: { organisation: 'org-1', region: 'nl-01', auth: { personalAccessToken: { secretRef: { name: 'token', key: 'token', namespace: 'ops' } } } },
} as ClusterThalassaSecretStore;

const workloadStore: ThalassaSecretStore = {
  apiVersion: 'secrets.thalassa.cloud/v1alpha1',
  kind: 'ThalassaSecretStore',
  metadata: { name: 'wi', namespace: 'team-a' },
  spec: { organisation: 'org-1', region: 'nl-01', auth: { workloadIdentity: { serviceAccountID: 'sa-1', serviceAccountRef: { name: 'app' } } } },
};

async function failureOf(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

async function subjectTokenOf(credentials: Credentials, store: ThalassaSecretStore): Promise<string> {
  const credential = await credentials.credentialFor(store);
  if (credential.type !== 'tokenExchange') throw new Error(`expected tokenExchange, got ${credential.type}`);
  return await credential.subjectToken(AbortSignal.timeout(5_000));
}

describe('Credentials', () => {
  it('never lets a namespaced store read a credential of another namespace, even one admission did not check', async () => {
    const { credentials, requests } = await credentialsAnswering([secret({ token: 'x' })]);
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
    const failure = await failureOf(credentials.credentialFor(store));
    expect([failure.reason, failure.message]).toEqual([
      'InvalidStore',
      'ThalassaSecretStore/team-a/sneaky: a namespaced store can only use Secrets of its own namespace, not team-b',
    ]);
    expect(requests).toEqual([]);
  });

  it.for([
    ['without serviceAccountID', { serviceAccountRef: { name: 'app' } }, 'must set serviceAccountID:'],
    ['without serviceAccountRef', { serviceAccountID: 'sa-tenant' }, 'must set serviceAccountRef:'],
    ['with neither', {}, 'must set serviceAccountID and serviceAccountRef:'],
  ] as const)("never lends the operator's own identity to a namespaced workload-identity store %s", async ([, workloadIdentity, fragment]) => {
    // The operator has an identity of its own, which the store must not fall back to.
    const { credentials, requests } = await credentialsAnswering([], { operatorIdentity: { serviceAccountId: 'sa-operator', subjectTokenFile: '/var/run/secrets/thalassa/token' } });
    // What admission refuses, as an object stored before the rule would be.
    const store: ThalassaSecretStore = {
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecretStore',
      metadata: { name: 'borrower', namespace: 'team-a' },
      spec: { organisation: 'org-1', region: 'nl-01', auth: { workloadIdentity } },
    };
    const { reason, message } = await failureOf(credentials.credentialFor(store));
    expect(reason).toBe('InvalidStore');
    expect(message).toContain(`ThalassaSecretStore/team-a/borrower: workloadIdentity of a namespaced store ${fragment}`);
    expect(message).toContain("only cluster stores may use the operator's own identity");
    expect(requests).toEqual([]);
  });

  it('reads a cluster store credential from the namespace its ref names, and only its key', async () => {
    const { credentials, requests } = await credentialsAnswering([secret({ token: ' pat-1 \n', other: 'unused' })]);
    expect(await credentials.credentialFor(clusterStore)).toEqual({ type: 'personalAccessToken', token: 'pat-1' });
    expect(requests).toEqual(['GET /api/v1/namespaces/ops/secrets/token']);
  });

  it.for([
    ['a Secret that does not exist', status(404, 'NotFound', 'secrets "token" not found'), 'credential Secret ops/token does not exist'],
    ['a Secret without the key', secret({ other: 'x' }), 'credential Secret ops/token has no key "token"'],
    ['an empty key', secret({ token: '  ' }), 'key "token" of credential Secret ops/token is empty'],
  ] as const)('calls %s CredentialsNotFound', async ([, answer, message]) => {
    const { credentials } = await credentialsAnswering([answer]);
    const failure = await failureOf(credentials.credentialFor(clusterStore));
    expect([failure.reason, failure.message, failure.transient]).toEqual(['CredentialsNotFound', message, false]);
  });

  it('says that RBAC forbids reading a credential Secret, not that it is missing', async () => {
    const { credentials } = await credentialsAnswering([status(403, 'Forbidden', 'secrets "token" is forbidden: User "op" cannot get resource "secrets" in the namespace "ops"')]);
    const failure = await failureOf(credentials.credentialFor(clusterStore));
    expect(failure.reason).toBe('CredentialsForbidden');
    expect(failure.message).toBe('the operator may not read credential Secret ops/token: secrets "token" is forbidden: User "op" cannot get resource "secrets" in the namespace "ops"');
  });

  it.for([
    ['throttled (429)', status(429, 'TooManyRequests', 'Too many requests, please try again later.', { 'retry-after': '30' }), 'KubernetesThrottled', 30_000],
    ['failing (503)', status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'), 'KubernetesUnavailable', undefined],
  ] as const)('reports a %s API server as transient, with its Retry-After, and asks again next time', async ([, answer, reason, retryAfterMs]) => {
    const { credentials, requests } = await credentialsAnswering([answer, secret({ token: 'pat-1' })]);
    const failure = await failureOf(credentials.credentialFor(clusterStore));
    expect([failure.reason, failure.transient, failure.retryAfterMs]).toEqual([reason, true, retryAfterMs]);
    expect(failure.message).toContain('reading credential Secret ops/token');
    // A transient failure is not cached as the credential's state.
    expect(await credentials.credentialFor(clusterStore)).toEqual({ type: 'personalAccessToken', token: 'pat-1' });
    expect(requests).toHaveLength(2);
  });

  it('reports an API server that cannot be reached as transient, not as a missing credential', async () => {
    const kube = loopback.client(await loopback.refusingUrl(), { retry: false });
    const failure = await failureOf(new Credentials({ kube, operatorIdentity: {} }).credentialFor(clusterStore));
    expect([failure.reason, failure.transient]).toEqual(['KubernetesUnavailable', true]);
  });

  it('reuses a read for its TTL, and reads again after it or after invalidate', async () => {
    let now = 0;
    const { credentials, requests } = await credentialsAnswering([secret({ token: 'pat-1' }), secret({ token: 'pat-2' }), secret({ token: 'pat-3' })], { now: () => now });
    expect(await credentials.credentialFor(clusterStore)).toMatchObject({ token: 'pat-1' });
    now = 60_000;
    expect(await credentials.credentialFor(clusterStore)).toMatchObject({ token: 'pat-1' });
    now = 60_001;
    expect(await credentials.credentialFor(clusterStore)).toMatchObject({ token: 'pat-2' });
    credentials.invalidate(clusterStore);
    expect(await credentials.credentialFor(clusterStore)).toMatchObject({ token: 'pat-3' });
    expect(requests).toHaveLength(3);
  });

  it('mints a ServiceAccount token for each exchange', async () => {
    const minted: Answer = (_request, response) => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ status: { token: 'jwt' } }));
    const { credentials, requests } = await credentialsAnswering([minted]);
    expect(await subjectTokenOf(credentials, workloadStore)).toBe('jwt');
    expect(await subjectTokenOf(credentials, workloadStore)).toBe('jwt');
    expect(requests).toEqual(['POST /api/v1/namespaces/team-a/serviceaccounts/app/token', 'POST /api/v1/namespaces/team-a/serviceaccounts/app/token']);
  });

  it.for([
    ['a missing ServiceAccount', status(404, 'NotFound', 'serviceaccounts "app" not found'), 'CredentialsNotFound'],
    ['RBAC', status(403, 'Forbidden', 'serviceaccounts "app" is forbidden'), 'CredentialsForbidden'],
    ['an invalid TokenRequest', status(422, 'Invalid', 'TokenRequest.authentication.k8s.io "app" is invalid'), 'InvalidStore'],
    ['throttling', status(429, 'TooManyRequests', 'Too many requests'), 'KubernetesThrottled'],
  ] as const)('tells %s apart when minting a token', async ([, answer, reason]) => {
    const { credentials } = await credentialsAnswering([answer]);
    const failure = await failureOf(subjectTokenOf(credentials, workloadStore));
    expect(failure.reason).toBe(reason);
    expect(failure.message).toContain('ServiceAccount team-a/app');
  });
});
