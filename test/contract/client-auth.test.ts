/** Every way the client authenticates, and how it caches, renews and refreshes OIDC tokens. */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signJwt, type Emulator } from '../../src/emulator/index.ts';
import {
  BadRequestError,
  ForbiddenError,
  UnauthorizedError,
  type ThalassaCredential,
} from '../../src/thalassa/index.ts';
import {
  clientSeed,
  countsOf,
  jwtAudience,
  jwtIssuer,
  jwtSubject,
  oidcClientId,
  oidcClientSecret,
  organisation,
  region,
  rejectionOf,
  rsaKeyPair,
  serviceAccountId,
  startRecordingProxy,
  useEmulator,
  type KeyPair,
} from './client-fixtures.ts';

let federationKey: KeyPair;
/** Added to the real clock for the emulator: moving it expires the tokens the emulator issued. */
let clockOffsetMs = 0;

beforeAll(() => {
  federationKey = rsaKeyPair();
});
beforeEach(() => {
  clockOffsetMs = 0;
});

const h = useEmulator(() => ({ seed: clientSeed(federationKey), now: () => Date.now() + clockOffsetMs }));

beforeEach(() => {
  h.emulator.putSecret({ organisation, region, path: '/app/db', secretString: 'value' });
});

const clientCredentials: ThalassaCredential = {
  type: 'clientCredentials',
  clientId: oidcClientId,
  clientSecret: oidcClientSecret,
};

/** A token-exchange credential whose subject token is a freshly signed JWT on every call. */
function exchangeCredential(emulator: Emulator, options: { audience?: string; lifetime?: number } = {}) {
  const calls: string[] = [];
  const credential: ThalassaCredential = {
    type: 'tokenExchange',
    serviceAccountId,
    ...(options.lifetime === undefined ? {} : { accessTokenLifetimeSeconds: options.lifetime }),
    subjectToken: async () => {
      await Promise.resolve();
      const seconds = Math.floor(emulator.now() / 1000);
      const jwt = signJwt(
        {
          iss: jwtIssuer,
          sub: jwtSubject,
          aud: [options.audience ?? jwtAudience],
          iat: seconds,
          exp: seconds + 600,
          jti: `subject-${calls.length + 1}`,
        },
        federationKey.privateKey,
        'RS256',
      );
      calls.push(jwt);
      return jwt;
    },
  };
  return { credential, calls };
}

function formOf(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

describe('static credentials', () => {
  it('sends a personal access token with the Token scheme', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const client = h.client({ apiURL: proxy.url, credential: { type: 'personalAccessToken', token: 'operator-pat' } });
    expect((await client.reveal('/app/db')).version).toBe(1);
    expect(proxy.requests.map((r) => r.headers.authorization)).toEqual(['Token operator-pat']);
    expect(countsOf(h.emulator, 'token')).toEqual({});
  });

  it('sends an access token with the Bearer scheme', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const client = h.client({ apiURL: proxy.url, credential: { type: 'accessToken', token: 'operator-bearer' } });
    expect((await client.reveal('/app/db')).version).toBe(1);
    // The operator principal may read but not create: the token really carries that identity.
    await rejectionOf(client.create({ path: '/app/new', kmsKeyIdentity: 'kms-1', payload: { string: 'x' } }), ForbiddenError, {
      kind: 'permissionDenied',
    });
    expect(proxy.requests.map((r) => r.headers.authorization)).toEqual(['Bearer operator-bearer', 'Bearer operator-bearer']);
  });

  it('is rejected with 401 when a personal access token is sent as Bearer, and does not retry', async () => {
    const client = h.client({ credential: { type: 'accessToken', token: 'operator-pat' }, retry: { limit: 3, baseDelayMs: 1 } });
    await rejectionOf(client.getMetadata('/app/db'), UnauthorizedError, { status: 401, retryable: false });
    expect(countsOf(h.emulator, 'get')).toEqual({ '401': 1 });
  });
});

describe('OIDC client credentials', () => {
  it('gets a token from /oidc/token with a form post and sends it as Bearer', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const client = h.client({
      apiURL: proxy.url,
      credential: { ...clientCredentials, scopes: ['api:read', 'api:write'] },
    });
    expect((await client.reveal('/app/db')).version).toBe(1);

    const [tokenRequest, apiRequest] = proxy.requests;
    expect(tokenRequest?.method).toBe('POST');
    expect(tokenRequest?.url).toBe('/oidc/token');
    expect(tokenRequest?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(formOf(tokenRequest?.body ?? '')).toEqual({
      grant_type: 'client_credentials',
      client_id: oidcClientId,
      client_secret: oidcClientSecret,
      scope: 'api:read api:write',
    });
    expect(apiRequest?.headers.authorization).toMatch(/^Bearer tat_\S+$/);
  });

  it('makes one token request for many sequential and concurrent calls', async () => {
    const client = h.client({ credential: clientCredentials });
    for (let i = 0; i < 10; i++) await client.getMetadata('/app/db');
    await Promise.all(Array.from({ length: 10 }, async () => await client.reveal('/app/db')));
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 1 });
    expect(countsOf(h.emulator, 'get')).toEqual({ '200': 10 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '200': 10 });
  });

  it('shares one token request between concurrent callers that start without a token', async () => {
    const client = h.client({ credential: clientCredentials });
    await Promise.all(Array.from({ length: 25 }, async () => await client.reveal('/app/db')));
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 1 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '200': 25 });
  });

  it('keeps the shared token request going for the other callers when the first caller aborts', async () => {
    h.emulator.setFaults({ latency: { fixedMs: 200, operations: ['token'] } });
    const client = h.client({ credential: clientCredentials });
    const first = new AbortController();
    const aborted = client.reveal('/app/db', { signal: first.signal });
    const second = client.reveal('/app/db');
    await sleep(50);
    first.abort();
    await expect(aborted).rejects.toThrow();
    expect((await second).version).toBe(1);
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 1 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '200': 1 });
  });

  it('renews a short-lived token before it expires, without a 401', async () => {
    const emulator = await h.start({ seed: clientSeed(), accessTokenLifetimeSeconds: 1 });
    emulator.putSecret({ organisation, region, path: '/app/db', secretString: 'value' });
    const client = h.client({ apiURL: emulator.url, credential: clientCredentials });
    await client.getMetadata('/app/db');
    await client.getMetadata('/app/db');
    expect(countsOf(emulator, 'token')).toEqual({ '200': 1 });
    // Past the renewal point (half of a 1 s lifetime): the next call fetches a new token first.
    await sleep(700);
    await client.getMetadata('/app/db');
    expect(countsOf(emulator, 'token')).toEqual({ '200': 2 });
    expect(countsOf(emulator, 'get')).toEqual({ '200': 3 });
  });

  it('refreshes once and retries when the API answers 401 to a token that expired early', async () => {
    const client = h.client({ credential: clientCredentials });
    await client.getMetadata('/app/db');
    // The emulator's clock jumps past the token's expiry; the client still believes it is valid.
    clockOffsetMs = 2 * 3600_000;
    expect((await client.getMetadata('/app/db')).path).toBe('/app/db');
    expect(countsOf(h.emulator, 'get')).toEqual({ '200': 2, '401': 1 });
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 2 });
  });

  it('shares one refresh between concurrent callers that all got 401 for the same expired token', async () => {
    const client = h.client({ credential: clientCredentials });
    await client.getMetadata('/app/db');
    clockOffsetMs = 2 * 3600_000;
    // Spread the 401s out in time so that some arrive after the first refresh has finished.
    h.emulator.setFaults({ latency: { minMs: 0, maxMs: 150, operations: ['get'] } });
    await Promise.all(Array.from({ length: 8 }, async () => await client.getMetadata('/app/db')));
    expect(countsOf(h.emulator, 'get')).toEqual({ '200': 9, '401': 8 });
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 2 });
  });

  it('refreshes exactly once: a 401 to the fresh token goes to the caller', async () => {
    const client = h.client({ credential: clientCredentials, retry: { limit: 3, baseDelayMs: 1 } });
    h.emulator.setFaults({ errors: [{ status: 401, rate: 1, operations: ['get'], message: 'token revoked' }] });
    await rejectionOf(client.getMetadata('/app/db'), UnauthorizedError, {
      status: 401,
      serverMessage: 'token revoked',
      operation: 'get',
      path: '/app/db',
      retryable: false,
    });
    expect(countsOf(h.emulator, 'get')).toEqual({ '401': 2 });
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 2 });
  });

  it('does not ask for a second token when the token endpoint itself rejects the client', async () => {
    const client = h.client({ credential: { ...clientCredentials, clientSecret: 'wrong' }, retry: { limit: 3, baseDelayMs: 1 } });
    await rejectionOf(client.reveal('/app/db'), UnauthorizedError, {
      status: 401,
      operation: 'token',
      serverMessage: 'client authentication failed',
    });
    expect(countsOf(h.emulator, 'token')).toEqual({ '401': 1 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({});
  });
});

describe('OIDC token exchange', () => {
  it('exchanges a signed subject token with the RFC 8693 form fields and uses the access token', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const { credential, calls } = exchangeCredential(h.emulator, { lifetime: 120 });
    const client = h.client({ apiURL: proxy.url, credential });
    expect((await client.reveal('/app/db')).value).toEqual({ format: 'string', bytes: Buffer.from('value') });

    expect(calls).toHaveLength(1);
    const [tokenRequest, apiRequest] = proxy.requests;
    expect(tokenRequest?.url).toBe('/oidc/token');
    expect(tokenRequest?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(formOf(tokenRequest?.body ?? '')).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: calls[0],
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      organisation_id: organisation,
      service_account_id: serviceAccountId,
      access_token_lifetime: '120',
    });
    expect(apiRequest?.headers.authorization).toMatch(/^Bearer tat_\S+$/);
    expect(apiRequest?.headers.authorization).not.toContain(calls[0]);
  });

  it('exchanges once for many calls and calls the subject token function again for every exchange', async () => {
    const { credential, calls } = exchangeCredential(h.emulator);
    const client = h.client({ credential });
    await Promise.all(Array.from({ length: 5 }, async () => await client.getMetadata('/app/db')));
    await client.reveal('/app/db');
    expect(calls).toHaveLength(1);
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 1 });

    clockOffsetMs = 2 * 3600_000;
    await client.reveal('/app/db');
    expect(calls).toHaveLength(2);
    expect(calls[1]).not.toBe(calls[0]);
    expect(countsOf(h.emulator, 'token')).toEqual({ '200': 2 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '200': 2, '401': 1 });
  });

  it('renews before expiry with a fresh subject token', async () => {
    const emulator = await h.start({ seed: clientSeed(federationKey), accessTokenLifetimeSeconds: 1 });
    emulator.putSecret({ organisation, region, path: '/app/db', secretString: 'value' });
    const { credential, calls } = exchangeCredential(emulator);
    const client = h.client({ apiURL: emulator.url, credential });
    await client.getMetadata('/app/db');
    await sleep(700);
    await client.getMetadata('/app/db');
    expect(calls).toHaveLength(2);
    expect(countsOf(emulator, 'token')).toEqual({ '200': 2 });
    expect(countsOf(emulator, 'get')).toEqual({ '200': 2 });
  });

  it('reports a rejected subject token as a 400 from the token operation, without retrying', async () => {
    const { credential, calls } = exchangeCredential(h.emulator, { audience: 'someone-else' });
    const client = h.client({ credential, retry: { limit: 3, baseDelayMs: 1 } });
    const error = await rejectionOf(client.reveal('/app/db'), BadRequestError, {
      status: 400,
      operation: 'token',
      serverMessage: 'subject token audience is not accepted',
      retryable: false,
    });
    expect(error.message).not.toContain(calls[0]);
    expect(calls).toHaveLength(1);
    expect(countsOf(h.emulator, 'token')).toEqual({ '400': 1 });
    expect(countsOf(h.emulator, 'reveal')).toEqual({});
  });

  it('passes the subject token function\'s own failure to the caller unchanged, and sends nothing', async () => {
    class NoServiceAccount extends Error {}
    const refusal = new NoServiceAccount('ServiceAccount thalassa/reader not found');
    const client = h.client({
      credential: { type: 'tokenExchange', serviceAccountId, subjectToken: async () => { await Promise.resolve(); throw refusal; } },
      retry: { limit: 3, baseDelayMs: 1 },
    });
    let caught: unknown;
    await client.reveal('/app/db').catch((error: unknown) => { caught = error; });
    // Not a NetworkError: the store resolver tells a missing ServiceAccount (CredentialsNotFound) by it.
    expect(caught).toBe(refusal);
    expect(countsOf(h.emulator, 'token')).toEqual({});
    expect(countsOf(h.emulator, 'reveal')).toEqual({});
  });
});
