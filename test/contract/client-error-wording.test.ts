/**
Error kinds do not hang on the emulator's wording. Thalassa documents its statuses and a
`{"message"}` body, not the messages, so the emulator decides what happened (a missing secret, an
unknown region, a disabled feature, a destroyed version) and a proxy in front of it words the
error as another server might: other phrases, other case, a `code` field, no JSON at all. The
client must still tell the kinds apart, or, where the answer does not say, fall back to the kind
that is safe: a 404 is "the secret is gone" (which `deletionPolicy: Delete` acts on) only when the
answer says that the secret or its version is missing, for a request about that secret.
*/
import { describe, expect, it } from 'vitest';
import { BadRequestError, ForbiddenError, NotFoundError, type ThalassaClientOptions } from '../../src/thalassa/index.ts';
import { startRewordingThalassa, type Rewording, type RewordingThalassa } from '../support/rewording-thalassa.ts';
import type { ThalassaAdminClient } from '../support/thalassa-admin-client.ts';
import { kmsKey, organisation, region, rejectionOf, useEmulator } from './client-fixtures.ts';

const h = useEmulator();

type Body = string | Record<string, unknown>;

/**
A client through a proxy that answers `body` instead of every error whose emulator message matches
`original`. A string body is sent as JSON `{message}` unless `contentType` says otherwise.
*/
async function worded(
  original: RegExp,
  body: Body,
  overrides: Partial<ThalassaClientOptions> = {},
  contentType?: string,
): Promise<{ client: ThalassaAdminClient; proxy: RewordingThalassa }> {
  const reword: Rewording = ({ message }) => {
    if (!original.test(message)) return undefined;
    if (contentType !== undefined) return { body, contentType };
    return { body: typeof body === 'string' ? { message: body } : body };
  };
  const proxy = await startRewordingThalassa(h.emulator.url, reword);
  h.track(proxy);
  return { client: h.client({ apiURL: proxy.url, retry: { limit: 0 }, ...overrides }), proxy };
}

/** The kind of the NotFoundError `call` fails with, after checking that the proxy did reword it. */
async function notFoundKind(call: Promise<unknown>, proxy: RewordingThalassa): Promise<string> {
  const error = await rejectionOf(call, NotFoundError, { status: 404 });
  expect(proxy.reworded.length, 'the proxy reworded the answer').toBeGreaterThan(0);
  return error.kind;
}

function seedSecret(path = '/app/x'): void {
  h.emulator.putSecret({ organisation, region, path, secretString: 'value' });
}

describe('404: a missing secret, however it is worded, is the secret', () => {
  it.each<Body>([
    'Secret does not exist',
    'SECRET NOT FOUND',
    'The requested secret could not be found',
    'no such secret',
    'Not found: secret',
    'secret /app/missing was deleted',
    "secret '/app/missing' doesn't exist in this scope",
    { message: 'Not Found', code: 'SECRET_NOT_FOUND' },
    { message: 'Not Found', reason: 'secretNotFound' },
  ])('%j', async (body) => {
    const { client, proxy } = await worded(/^secret not found/, body);
    expect(await notFoundKind(client.getMetadata('/app/missing'), proxy)).toBe('secret');
  });

  it('a missing version of an existing secret', async () => {
    seedSecret();
    const { client, proxy } = await worded(/^version \d+ not found/, 'Secret version 9 does not exist');
    expect(await notFoundKind(client.reveal('/app/x', { version: 9 }), proxy)).toBe('secret');
  });
});

describe('404: a scope that does not exist is the store\'s mistake, however it is worded', () => {
  it.each<Body>([
    'Region does not exist',
    'unknown region',
    "region 'xx-99' doesn't exist",
    'xx-99: region not found',
    'No such region: xx-99',
    { message: 'Not Found', code: 'REGION_NOT_FOUND' },
    // The code decides before the message.
    { message: 'secret not found', code: 'RegionNotFound' },
  ])('region: %j', async (body) => {
    const { client, proxy } = await worded(/^region not found/, body, { region: 'xx-99' });
    expect(await notFoundKind(client.getMetadata('/app/x'), proxy)).toBe('region');
  });

  it.each<Body>(['Project does not exist', 'no such project', 'unknown project prj-nope', { message: 'Not Found', code: 'PROJECT_NOT_FOUND' }])(
    'project: %j',
    async (body) => {
      const { client, proxy } = await worded(/^project not found/, body, { project: 'prj-nope' });
      expect(await notFoundKind(client.reveal('/app/x'), proxy)).toBe('project');
    },
  );

  it('a project whose name says "secret" does not make its 404 a missing secret', async () => {
    // The server names only the project; its words are the user's, not the server's.
    const { client, proxy } = await worded(/^project not found/, 'secret-store not found', { project: 'secret-store' });
    expect(await notFoundKind(client.getMetadata('/app/x'), proxy)).not.toBe('secret');
  });

  it('a missing KMS key, even when the message names a secret too', async () => {
    const { client, proxy } = await worded(/^kms key not found/, 'Encryption key for secret /app/k does not exist');
    expect(await notFoundKind(client.create({ path: '/app/k', kmsKeyIdentity: 'kms-2', payload: { string: 'x' } }), proxy)).toBe('kmsKey');
  });
});

describe('404: an answer that does not say what is missing is never "the secret is gone"', () => {
  it.each<[string, Body, string | undefined]>([
    ['a bare status text', 'Not Found', undefined],
    ['a proxy or router\'s page', '404 page not found', 'text/plain'],
    ['an HTML page', '<html><body><h1>404 Not Found</h1></body></html>', 'text/html'],
    ['an empty body', '', 'application/json'],
    ['another resource', 'record not found', undefined],
    ['a route', 'no route for GET /v1/secrets/nl-01/secret/app/missing', undefined],
    ['a generic resource', 'The requested resource does not exist', undefined],
    ['an unknown code', { message: 'Not Found', code: 'NOT_FOUND' }, undefined],
  ])('%s', async (_, body, contentType) => {
    const { client, proxy } = await worded(/^secret not found/, body, {}, contentType);
    expect(await notFoundKind(client.getMetadata('/app/missing'), proxy)).toBe('unknown');
  });

  it('an API URL with a wrong path: the emulator\'s own "no endpoint" 404', async () => {
    const client = h.client({ apiURL: `${h.emulator.url}/api`, retry: { limit: 0 } });
    const error = await rejectionOf(client.getMetadata('/app/missing'), NotFoundError, { status: 404 });
    expect(error.serverMessage).toMatch(/^no endpoint at /);
    expect(error.kind).toBe('unknown');
  });

  it('a list cannot find a secret gone, whatever its 404 says', async () => {
    const { client, proxy } = await worded(/^region not found/, 'secret not found', { region: 'xx-99' });
    expect(await notFoundKind(client.list('/app/'), proxy)).toBe('unknown');
  });
});

describe('403, worded differently', () => {
  const gated = { organisation: 'org-gated', credential: { type: 'personalAccessToken', token: 'gated-pat' } } as const;

  it.each<Body>([
    'Secrets Manager is not enabled for this organisation',
    'Feature "secrets" is disabled',
    'SECRETS_FEATURE_DISABLED',
    { message: 'Forbidden', code: 'FEATURE_DISABLED' },
  ])('feature gate: %j', async (body) => {
    const { client, proxy } = await worded(/feature is not enabled/, body, gated);
    await rejectionOf(client.list('/'), ForbiddenError, { status: 403, kind: 'featureDisabled' });
    expect(proxy.reworded.length).toBeGreaterThan(0);
  });

  it.each<Body>([
    "Request denied by the secret's access policy",
    'Access Policy: 127.0.0.1 is not allowed',
    'denied by policy: no allow condition matches',
    { message: 'Forbidden', code: 'ACCESS_POLICY_DENIED' },
  ])('access policy: %j', async (body) => {
    seedSecret();
    h.emulator.setAccessPolicy({ organisation, region, path: '/app/x', policy: { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/8'] }] } });
    const { client, proxy } = await worded(/^access policy denies/, body);
    await rejectionOf(client.reveal('/app/x'), ForbiddenError, { status: 403, kind: 'policyDenied' });
    expect(proxy.reworded.length).toBeGreaterThan(0);
  });

  it.each<Body>(['Forbidden', 'Access denied', 'You do not have permission to reveal this secret', 'IAM policy secrets:ReadAccess does not allow getSecretValue', ''])(
    'IAM, and anything unrecognised: %j',
    async (body) => {
      seedSecret('/app/production/db');
      const { client, proxy } = await worded(/^permission denied/, body, { credential: { type: 'personalAccessToken', token: 'prod-reader-pat' } });
      await rejectionOf(client.reveal('/app/production/db'), ForbiddenError, { status: 403, kind: 'permissionDenied' });
      expect(proxy.reworded.length).toBeGreaterThan(0);
    },
  );

  it('words the user chose (a feature-flags path, a policy-team project) do not decide', async () => {
    h.emulator.putSecret({ organisation, region, project: 'prj-1', path: '/app/production/db', secretString: 'x' });
    const { client } = await worded(/^permission denied/, 'principal may not read /feature/policy in project prj-1', {
      credential: { type: 'personalAccessToken', token: 'prod-reader-pat' },
      project: 'prj-1',
    });
    await rejectionOf(client.reveal('/app/production/db'), ForbiddenError, { kind: 'permissionDenied' });
  });
});

describe('400, worded differently', () => {
  it.each<Body>(['Version 1 has been destroyed', 'VERSION_DESTROYED', 'the secret version is not active', { message: 'Bad Request', code: 'VersionDestroyed' }])(
    'a destroyed version: %j',
    async (body) => {
      seedSecret();
      h.emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'v2' });
      h.emulator.destroyVersion({ organisation, region, path: '/app/x', version: 1 });
      const { client, proxy } = await worded(/is destroyed$/, body);
      await rejectionOf(client.reveal('/app/x', { version: 1 }), BadRequestError, { status: 400, kind: 'versionDestroyed' });
      expect(proxy.reworded.length).toBeGreaterThan(0);
    },
  );

  it.each<Body>(['KMS key is inactive', 'The encryption key kms-1 is disabled', { message: 'Bad Request', code: 'KMS_KEY_DISABLED' }])(
    'a disabled KMS key: %j',
    async (body) => {
      seedSecret();
      h.emulator.setKmsKeyStatus(kmsKey, 'disabled');
      const { client, proxy } = await worded(/^kms key .* is disabled/, body);
      await rejectionOf(client.reveal('/app/x'), BadRequestError, { status: 400, kind: 'kmsKeyDisabled' });
      expect(proxy.reworded.length).toBeGreaterThan(0);
    },
  );

  it('413 is a size limit by its status, whatever it says', async () => {
    const { client, proxy } = await worded(/./, 'Request Entity Too Large');
    await rejectionOf(client.create({ path: '/app/big', kmsKeyIdentity: kmsKey, payload: { string: Buffer.alloc(3 * 1024 * 1024) } }), BadRequestError, {
      status: 413,
      kind: 'sizeLimit',
    });
    expect(proxy.reworded.length).toBeGreaterThan(0);
  });

  it('anything unrecognised is a validation error', async () => {
    const { client, proxy } = await worded(/^invalid browse path/, 'Bad Request');
    await rejectionOf(client.browse('/app'), BadRequestError, { status: 400, kind: 'validation' });
    expect(proxy.reworded.length).toBeGreaterThan(0);
  });
});
