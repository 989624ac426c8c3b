/**
Every error of the reference's status table, produced by the emulator over HTTP, mapped to the typed
error the operator acts on: class, status, server message, retryability and kind.
*/
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  InvalidResponseError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  ThalassaApiError,
  ThalassaError,
  UnauthorizedError,
  UnavailableError,
} from '../../src/thalassa/index.ts';
import {
  clientSeed,
  countsOf,
  kmsKey,
  organisation,
  project,
  region,
  rejectionOf,
  startMisbehavingServer,
  useEmulator,
} from './client-fixtures.ts';

const h = useEmulator();
/** One attempt only: these tests look at the error itself; retries have their own file. */
const noRetry = { limit: 0 } as const;

function seedSecret(path = '/app/x', value = 'value'): void {
  h.emulator.putSecret({ organisation, region, path, secretString: value });
}

describe('400 Bad Request', () => {
  it('reading a destroyed version: versionDestroyed', async () => {
    seedSecret();
    h.emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'v2' });
    h.emulator.destroyVersion({ organisation, region, path: '/app/x', version: 1 });
    const error = await rejectionOf(h.client({ retry: noRetry }).reveal('/app/x', { version: 1 }), BadRequestError, {
      status: 400,
      serverMessage: 'version 1 of /app/x is destroyed',
      retryable: false,
      kind: 'versionDestroyed',
      operation: 'reveal',
      path: '/app/x',
    });
    expect(error).toBeInstanceOf(ThalassaApiError);
    expect(error).toBeInstanceOf(ThalassaError);
    expect(error.message).toBe('reveal /app/x: HTTP 400: version 1 of /app/x is destroyed');
  });

  it('reading the current version when every version is destroyed: versionDestroyed', async () => {
    seedSecret();
    h.emulator.destroyVersion({ organisation, region, path: '/app/x', version: 1 });
    await rejectionOf(h.client().reveal('/app/x'), BadRequestError, {
      status: 400,
      serverMessage: 'secret has no active version: /app/x',
      kind: 'versionDestroyed',
    });
  });

  it('a disabled KMS key, on reveal and on create: kmsKeyDisabled', async () => {
    seedSecret();
    h.emulator.setKmsKeyStatus(kmsKey, 'disabled');
    const client = h.client();
    await rejectionOf(client.reveal('/app/x'), BadRequestError, {
      status: 400,
      serverMessage: 'kms key kms-1 is disabled',
      retryable: false,
      kind: 'kmsKeyDisabled',
    });
    await rejectionOf(client.create({ path: '/app/y', kmsKeyIdentity: 'kms-off', payload: { string: 'x' } }), BadRequestError, {
      serverMessage: 'kms key kms-off is disabled',
      kind: 'kmsKeyDisabled',
    });
  });

  it('a server-side path rule (a browse path must end in "/"): invalidPath', async () => {
    await rejectionOf(h.client().browse('/app'), BadRequestError, {
      status: 400,
      serverMessage: 'invalid browse path "/app": path must end with "/"',
      kind: 'invalidPath',
    });
  });

  it('a key/value value that is not base64 when the server wants base64: invalidBase64', async () => {
    const emulator = await h.start({ seed: clientSeed(), keyValueEncoding: 'base64' });
    const client = h.client({ apiURL: emulator.url });
    await rejectionOf(
      client.create({ path: '/app/kv', kmsKeyIdentity: kmsKey, payload: { keyValues: { user: 'not base64!' } } }),
      BadRequestError,
      { status: 400, serverMessage: 'secretKeyValues value of key "user" is not valid base64', kind: 'invalidBase64' },
    );
  });

  it('does not let a user-chosen key name decide the kind', async () => {
    const emulator = await h.start({ seed: clientSeed(), keyValueEncoding: 'base64' });
    const client = h.client({ apiURL: emulator.url });
    await rejectionOf(
      client.create({ path: '/app/kv', kmsKeyIdentity: kmsKey, payload: { keyValues: { kms_path_destroyed: '%%' } } }),
      BadRequestError,
      { kind: 'invalidBase64' },
    );
  });

  it('values and key counts over the limits, and request bodies over 2 MiB: sizeLimit', async () => {
    const emulator = await h.start({ seed: clientSeed(), maxValueBytes: 16, maxKeys: 2 });
    const client = h.client({ apiURL: emulator.url });
    await rejectionOf(client.create({ path: '/app/big', kmsKeyIdentity: kmsKey, payload: { string: Buffer.alloc(17) } }), BadRequestError, {
      status: 400,
      serverMessage: 'secret value of 17 bytes exceeds the size limit of 16 bytes',
      kind: 'sizeLimit',
    });
    await rejectionOf(
      client.create({ path: '/app/keys', kmsKeyIdentity: kmsKey, payload: { keyValues: { a: '1', b: '2', c: '3' } } }),
      BadRequestError,
      { serverMessage: 'secretKeyValues has 3 keys, more than the limit of 2', kind: 'sizeLimit' },
    );
    // Over the emulator's request body limit: 413, which the client treats as a 400 of its own kind.
    await rejectionOf(
      h.client().create({ path: '/app/huge', kmsKeyIdentity: kmsKey, payload: { string: Buffer.alloc(1_700_000) } }),
      BadRequestError,
      { status: 413, kind: 'sizeLimit', retryable: false },
    );
  });

  it('other rule violations: validation', async () => {
    seedSecret();
    const client = h.client();
    await rejectionOf(client.create({ path: '/app/g', kmsKeyIdentity: kmsKey, payload: { generate: { byteLength: 8 } } }), BadRequestError, {
      status: 400,
      serverMessage: 'generateSecret.byteLength must be between 16 and 4096',
      kind: 'validation',
    });
    await rejectionOf(client.create({ path: '/app/k', kmsKeyIdentity: '', payload: { string: 'x' } }), BadRequestError, {
      serverMessage: 'kmsKeyIdentity is required',
      kind: 'validation',
    });
    await rejectionOf(client.addVersion('/app/x', { keyValues: {} }), BadRequestError, {
      serverMessage: 'secretKeyValues must contain at least one key',
      kind: 'validation',
    });
    await rejectionOf(
      client.setPolicy('/app/x', { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/33'] }] }),
      BadRequestError,
      { serverMessage: 'access policy: invalid CIDR "10.0.0.0/33"', kind: 'validation' },
    );
  });
});

describe('401 Unauthorized', () => {
  it('an unknown token', async () => {
    seedSecret();
    const client = h.client({ credential: { type: 'personalAccessToken', token: 'nope' }, retry: { limit: 3 } });
    await rejectionOf(client.reveal('/app/x'), UnauthorizedError, {
      status: 401,
      serverMessage: 'invalid credentials',
      retryable: false,
      operation: 'reveal',
    });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '401': 1 });
  });

  it('an expired access token', async () => {
    h.emulator.seed({ accessTokens: [{ token: 'old-bearer', principal: 'operator', expiresAt: '2020-01-01T00:00:00Z' }] });
    await rejectionOf(h.client({ credential: { type: 'accessToken', token: 'old-bearer' } }).list('/'), UnauthorizedError, {
      status: 401,
      serverMessage: 'access token has expired',
    });
  });
});

describe('403 Forbidden', () => {
  it('a disabled secrets or kms feature gate: featureDisabled', async () => {
    const gated = h.client({ organisation: 'org-gated', credential: { type: 'personalAccessToken', token: 'gated-pat' } });
    await rejectionOf(gated.list('/'), ForbiddenError, {
      status: 403,
      serverMessage: 'the secrets feature is not enabled for organisation org-gated',
      retryable: false,
      kind: 'featureDisabled',
    });
    const noKms = h.client({ organisation: 'org-nokms', credential: { type: 'personalAccessToken', token: 'nokms-pat' } });
    await rejectionOf(noKms.getMetadata('/app/x'), ForbiddenError, {
      serverMessage: 'the kms feature is not enabled for organisation org-nokms',
      kind: 'featureDisabled',
    });
  });

  it('IAM: an action the principal lacks, or another organisation: permissionDenied', async () => {
    seedSecret('/app/production/db');
    const reader = h.client({ credential: { type: 'personalAccessToken', token: 'prod-reader-pat' } });
    expect((await reader.getMetadata('/app/production/db')).path).toBe('/app/production/db');
    await rejectionOf(reader.reveal('/app/production/db'), ForbiddenError, {
      status: 403,
      serverMessage: 'permission denied: getSecretValue on /app/production/db',
      retryable: false,
      kind: 'permissionDenied',
    });
    const outsider = h.client({ credential: { type: 'personalAccessToken', token: 'outsider-pat' } });
    await rejectionOf(outsider.getMetadata('/app/production/db'), ForbiddenError, {
      serverMessage: 'principal is not a member of organisation org-1',
      kind: 'permissionDenied',
    });
  });

  it('does not let words in the secret path decide the kind', async () => {
    const operator = h.client({ credential: { type: 'personalAccessToken', token: 'operator-pat' } });
    await rejectionOf(
      operator.create({ path: '/app/feature-flags/policy', kmsKeyIdentity: kmsKey, payload: { string: 'x' } }),
      ForbiddenError,
      { serverMessage: 'permission denied: create on /app/feature-flags/policy', kind: 'permissionDenied' },
    );
  });

  it('an access policy with an IP condition that excludes the caller: policyDenied, for values only', async () => {
    seedSecret();
    h.emulator.setAccessPolicy({
      organisation,
      region,
      path: '/app/x',
      policy: { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/8'] }] },
    });
    const client = h.client();
    const error = await rejectionOf(client.reveal('/app/x'), ForbiddenError, { status: 403, retryable: false, kind: 'policyDenied' });
    expect(error.serverMessage).toMatch(/^access policy denies getSecretValue on \/app\/x from (127\.0\.0\.1|::1): no allow condition matches$/);
    await rejectionOf(client.addVersion('/app/x', { string: 'new' }), ForbiddenError, { kind: 'policyDenied' });
    // Metadata is not gated by the policy.
    expect((await client.getMetadata('/app/x')).currentVersion).toBe(1);

    h.emulator.setAccessPolicy({
      organisation,
      region,
      path: '/app/x',
      policy: { conditions: [{ type: 'ip', effect: 'deny', cidrs: ['127.0.0.0/8', '::1'] }] },
    });
    const denied = await rejectionOf(client.reveal('/app/x'), ForbiddenError, { kind: 'policyDenied' });
    expect(denied.serverMessage).toContain('a ip deny condition matches');
  });
});

describe('404 Not Found', () => {
  it('a missing secret', async () => {
    await rejectionOf(h.client().getMetadata('/app/missing'), NotFoundError, {
      status: 404,
      serverMessage: 'secret not found: /app/missing',
      retryable: false,
      path: '/app/missing',
      operation: 'get',
    });
  });

  it('tells a region or project that does not exist from a missing secret (kind)', async () => {
    seedSecret();
    expect((await rejectionOf(h.client().getMetadata('/app/missing'), NotFoundError)).kind).toBe('secret');
    expect((await rejectionOf(h.client({ project }).reveal('/app/x'), NotFoundError)).kind).toBe('secret');
    const noRegion = await rejectionOf(h.client({ region: 'xx-99' }).reveal('/app/x'), NotFoundError, { serverMessage: 'region not found: xx-99' });
    expect(noRegion.kind).toBe('region');
    const noProject = await rejectionOf(h.client({ project: 'prj-nope' }).list('/'), NotFoundError, { serverMessage: 'project not found: prj-nope' });
    expect(noProject.kind).toBe('project');
  });

  it('a missing version, on reveal and on destroy', async () => {
    seedSecret();
    const client = h.client();
    await rejectionOf(client.reveal('/app/x', { version: 9 }), NotFoundError, {
      status: 404,
      serverMessage: 'version 9 not found for /app/x',
    });
    await rejectionOf(client.destroyVersion('/app/x', 9), NotFoundError, { serverMessage: 'version 9 not found for /app/x' });
  });

  it('a 404 for a version (what Terraform expects for a destroyed one) is a NotFoundError too', async () => {
    seedSecret();
    h.emulator.setFaults({ errors: [{ status: 404, rate: 1, operations: ['reveal'], message: 'version 1 not found' }] });
    await rejectionOf(h.client().reveal('/app/x', { version: 1 }), NotFoundError, { status: 404, serverMessage: 'version 1 not found' });
  });

  it('a secret in another project scope', async () => {
    h.emulator.putSecret({ organisation, region, project, path: '/app/p', secretString: 'x' });
    await rejectionOf(h.client().reveal('/app/p'), NotFoundError, { status: 404, serverMessage: 'secret not found: /app/p' });
    await rejectionOf(h.client({ project: 'prj-unknown' }).reveal('/app/p'), NotFoundError, {
      serverMessage: 'project not found: prj-unknown',
    });
  });

  it('an unknown region', async () => {
    await rejectionOf(h.client({ region: 'xx-99' }).list('/'), NotFoundError, {
      status: 404,
      serverMessage: 'region not found: xx-99',
    });
  });

  it('a KMS key of another organisation', async () => {
    await rejectionOf(h.client().create({ path: '/app/k', kmsKeyIdentity: 'kms-2', payload: { string: 'x' } }), NotFoundError, {
      serverMessage: 'kms key not found: kms-2',
    });
  });
});

describe('409, 429, 5xx', () => {
  it('409: the path exists in this scope', async () => {
    seedSecret();
    await rejectionOf(h.client({ retry: { limit: 3 } }).create({ path: '/app/x', kmsKeyIdentity: kmsKey, payload: { string: 'y' } }), ConflictError, {
      status: 409,
      serverMessage: 'secret already exists: /app/x',
      retryable: false,
    });
    expect(countsOf(h.emulator, 'create')).toEqual({ '409': 1 });
  });

  it('429: rate limited, with Retry-After as retryAfterMs', async () => {
    seedSecret();
    h.emulator.setFaults({ rateLimit: { requestsPerSecond: 0.001, burst: 1, retryAfterSeconds: 7 } });
    const client = h.client({ retry: noRetry });
    await client.getMetadata('/app/x');
    await rejectionOf(client.getMetadata('/app/x'), RateLimitedError, {
      status: 429,
      serverMessage: 'rate limit exceeded',
      retryable: true,
      retryAfterMs: 7000,
    });
  });

  it('503: KMS is not available in the region', async () => {
    const client = h.client({ region: 'de-01', retry: noRetry });
    await rejectionOf(client.create({ path: '/app/de', kmsKeyIdentity: 'kms-de', payload: { string: 'x' } }), UnavailableError, {
      status: 503,
      serverMessage: 'KMS is not available in region de-01',
      retryable: true,
      retryAfterMs: undefined,
    });
    h.emulator.putSecret({ organisation, region: 'de-01', path: '/app/de', secretString: 'x' });
    await rejectionOf(client.reveal('/app/de'), UnavailableError, { status: 503 });
    // Metadata needs no KMS.
    expect((await client.getMetadata('/app/de')).path).toBe('/app/de');
  });

  it('other 5xx are UnavailableError too', async () => {
    h.emulator.setFaults({ errors: [{ status: 500, rate: 1, message: 'boom' }] });
    await rejectionOf(h.client({ retry: noRetry }).list('/'), UnavailableError, { status: 500, serverMessage: 'boom', retryable: true });
  });

  it('an error body that is not JSON leaves serverMessage undefined', async () => {
    const server = await startMisbehavingServer(() => ({ status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' }));
    h.track(server);
    const error = await rejectionOf(h.client({ apiURL: server.url, retry: noRetry }).list('/'), UnavailableError, {
      status: 502,
      serverMessage: undefined,
    });
    expect(error.message).toBe('list: HTTP 502');
  });
});

describe('network', () => {
  it('connection refused (emulator outage "refuse")', async () => {
    h.emulator.setFaults({ outage: 'refuse' });
    await h.emulator.settled();
    await rejectionOf(h.client({ retry: noRetry }).list('/'), NetworkError, {
      timedOut: false,
      code: 'ECONNREFUSED',
      retryable: true,
      operation: 'list',
    });
    h.emulator.setFaults({});
    await h.emulator.settled();
    expect(await h.client().list('/')).toEqual([]);
  });

  it('a connection dropped before the answer', async () => {
    seedSecret();
    h.emulator.setFaults({ dropRate: 1 });
    const error = await rejectionOf(h.client({ retry: noRetry }).reveal('/app/x'), NetworkError, { timedOut: false, retryable: true });
    expect(error.code).toBeDefined();
    expect(countsOf(h.emulator, 'reveal')).toEqual({ dropped: 1 });
  });

  it('a connection dropped in the middle of the answer', async () => {
    seedSecret();
    h.emulator.setFaults({ dropMidResponseRate: 1 });
    await rejectionOf(h.client({ retry: noRetry }).reveal('/app/x'), NetworkError, { timedOut: false, retryable: true });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ dropped: 1 });
  });

  it('an answer slower than timeoutMs', async () => {
    seedSecret();
    h.emulator.setFaults({ latency: { fixedMs: 2000, operations: ['get'] } });
    const error = await rejectionOf(h.client({ retry: noRetry, timeoutMs: 150 }).getMetadata('/app/x'), NetworkError, {
      timedOut: true,
      retryable: true,
      operation: 'get',
    });
    expect(error.message).toBe('get: timed out');
  });

  it('a server whose TLS certificate is not trusted: the message says so, and a caBundle with its certificate works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'client-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      ], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const server = createHttpsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      h.track({ close: async () => await new Promise<void>((resolve) => server.close(() => resolve())) });
      const apiURL = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await rejectionOf(h.client({ apiURL, retry: noRetry }).list('/'), NetworkError, { timedOut: false, operation: 'list' });
      expect(error.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
      expect(error.message).toContain("the server's TLS certificate is not trusted");
      expect(await h.client({ apiURL, caBundle: cert }).list('/')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a body that stalls after the headers times out too', async () => {
    const server = await startMisbehavingServer(() => ({ status: 200, body: JSON.stringify([{ path: '/a', currentVersion: 1 }]), stallBody: true }));
    h.track(server);
    await rejectionOf(h.client({ apiURL: server.url, retry: noRetry, timeoutMs: 200 }).list('/'), NetworkError, {
      timedOut: true,
      operation: 'list',
    });
  });
});

describe('invalid responses (a deliberately broken server, not Thalassa)', () => {
  async function brokenClient(body: string, status = 200) {
    const server = await startMisbehavingServer(() => ({ status, body }));
    h.track(server);
    return h.client({ apiURL: server.url, retry: { limit: 3 } });
  }

  it('a body that is not JSON', async () => {
    const client = await brokenClient('{"path": "/app/x", "currentVers');
    const error = await rejectionOf(client.getMetadata('/app/x'), InvalidResponseError, { operation: 'get', retryable: false });
    expect(error.message).toBe('get: unexpected response from the server: the body is not JSON');
  });

  it('a metadata body without the fields the operator relies on', async () => {
    const client = await brokenClient(JSON.stringify({ path: '/app/x', currentVersion: 'two' }));
    const error = await rejectionOf(client.getMetadata('/app/x'), InvalidResponseError);
    expect(error.message).toContain('currentVersion');
    await rejectionOf((await brokenClient(JSON.stringify({ secrets: [] }))).list('/'), InvalidResponseError, { operation: 'list' });
  });

  it('a secretString that is not valid base64, without echoing it', async () => {
    const client = await brokenClient(JSON.stringify({ path: '/app/x', version: 1, secretString: 'c2VjcmV0-not*base64' }));
    const error = await rejectionOf(client.reveal('/app/x'), InvalidResponseError, { operation: 'reveal' });
    expect(error.message).toBe('reveal: unexpected response from the server: secretString of /app/x is not valid base64');
    expect(JSON.stringify(error)).not.toContain('c2VjcmV0');
  });

  it('a reveal answered for another path, or for another version than the one pinned', async () => {
    const value = Buffer.from('misdirected').toString('base64');
    const otherPath = await brokenClient(JSON.stringify({ path: '/app/other', version: 1, secretString: value }));
    const error = await rejectionOf(otherPath.reveal('/app/x'), InvalidResponseError, { operation: 'reveal', retryable: false });
    expect(error.message).toBe('reveal: unexpected response from the server: asked for /app/x, the answer is for /app/other');
    const otherVersion = await brokenClient(JSON.stringify({ path: '/app/x', version: 2, secretString: value }));
    const pinned = await rejectionOf(otherVersion.reveal('/app/x', { version: 1 }), InvalidResponseError);
    expect(pinned.message).toBe('reveal: unexpected response from the server: asked for version 1 of /app/x, the answer is version 2');
    // Unpinned, the current version is whatever the server says it is.
    expect((await otherVersion.reveal('/app/x')).version).toBe(2);
  });

  it('a reveal that carries no value, or a key/value map with a non-string value', async () => {
    await rejectionOf((await brokenClient(JSON.stringify({ path: '/app/x', version: 1 }))).reveal('/app/x'), InvalidResponseError);
    const mapClient = await brokenClient(JSON.stringify({ path: '/app/x', version: 1, secretKeyValues: { user: 42 } }));
    const error = await rejectionOf(mapClient.reveal('/app/x'), InvalidResponseError);
    expect(error.message).toContain('secretKeyValues.user');
    expect(error.message).not.toContain('42');
  });

  it('a token response without access_token', async () => {
    const server = await startMisbehavingServer(() => ({ status: 200, body: JSON.stringify({ token_type: 'Bearer' }) }));
    h.track(server);
    const client = h.client({ apiURL: server.url, credential: { type: 'clientCredentials', clientId: 'c', clientSecret: 's' } });
    await rejectionOf(client.list('/'), InvalidResponseError, { operation: 'token' });
  });

  it('is never retried: every broken answer costs one request', async () => {
    let requests = 0;
    const server = await startMisbehavingServer(() => {
      requests++;
      return { status: 200, body: 'not json' };
    });
    h.track(server);
    await rejectionOf(h.client({ apiURL: server.url, retry: { limit: 3 } }).list('/'), InvalidResponseError);
    expect(requests).toBe(1);
  });
});
