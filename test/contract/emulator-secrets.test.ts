import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  browseResponseSchema,
  putVersionResponseSchema,
  revealResponseSchema,
  secretListSchema,
  secretMetadataSchema,
} from '../../src/thalassa/wire.ts';
import {
  b64,
  call,
  collectionUrl,
  contractSeed,
  createSecret,
  kmsKey,
  organisation,
  region,
  secretUrl,
} from './emulator-fixtures.ts';

let emulator: Emulator;
let now: number;

beforeEach(async () => {
  now = Date.parse('2026-03-01T10:00:00Z');
  emulator = await startEmulator({ seed: contractSeed(), now: () => now });
});
afterEach(async () => {
  await emulator.stop();
});

async function revealed(path: string, body?: unknown): Promise<{ version: number; text: string | undefined; json: unknown }> {
  const result = await call(emulator, 'POST', secretUrl(path, '/value'), body === undefined ? {} : { body });
  expect(result.status).toBe(200);
  const value = revealResponseSchema.parse(result.json);
  return {
    version: value.version,
    text: value.secretString == null ? undefined : Buffer.from(value.secretString, 'base64').toString('utf8'),
    json: result.json,
  };
}

describe('secret lifecycle', () => {
  it('creates version 1 and answers 201 with metadata in the wire shape', async () => {
    const created = await createSecret(emulator, '/app/production/db/password', 's3cret', {
      description: 'db',
      labels: { team: 'platform' },
      annotations: { owner: 'db' },
    });
    expect(created.status).toBe(201);
    const metadata = secretMetadataSchema.parse(created.json);
    expect(metadata).toMatchObject({
      path: '/app/production/db/password',
      description: 'db',
      labels: { team: 'platform' },
      annotations: { owner: 'db' },
      currentVersion: 1,
      objectVersion: 1,
      lastAccessedAt: null,
      createdAt: '2026-03-01T10:00:00.000Z',
      kmsKey: { identity: kmsKey, keyType: 'aes256-gcm96', status: 'active' },
      region: { slug: region },
    });
    expect(metadata.versions).toBeUndefined();
  });

  it('reveals the current version as base64 with the KMS fields, and records the access', async () => {
    await createSecret(emulator, '/app/a', 'hello');
    now += 60_000;
    const value = await revealed('/app/a');
    expect(value.json).toEqual({
      path: '/app/a',
      version: 1,
      secretString: b64('hello'),
      kmsKeyIdentity: kmsKey,
      kmsKeyVersion: '1',
    });
    const metadata = await call(emulator, 'GET', secretUrl('/app/a', '?includeVersions=true'));
    expect(metadata.json).toMatchObject({
      lastAccessedAt: '2026-03-01T10:01:00.000Z',
      objectVersion: 1,
      updatedAt: '2026-03-01T10:00:00.000Z',
      versions: [{ version: 1, status: 'active', stage: 'current', lastAccessedAt: '2026-03-01T10:01:00.000Z' }],
    });
  });

  it('adds versions, destroys one, moves currentVersion back and never reuses a number', async () => {
    await createSecret(emulator, '/app/rotating', 'one');
    const second = await call(emulator, 'POST', secretUrl('/app/rotating', '/versions'), {
      body: { path: '/app/rotating', secretString: b64('two') },
    });
    expect(second.status).toBe(201);
    expect(putVersionResponseSchema.parse(second.json)).toEqual({ path: '/app/rotating', version: 2 });
    const third = await call(emulator, 'POST', secretUrl('/app/rotating', '/versions'), {
      body: { secretKeyValues: { user: 'app', pass: 'x' } },
    });
    expect(third.json).toEqual({ path: '/app/rotating', version: 3 });
    expect((await revealed('/app/rotating')).json).toMatchObject({ version: 3, secretKeyValues: { user: 'app', pass: 'x' } });
    expect((await revealed('/app/rotating', { version: 2 })).text).toBe('two');

    const destroy = await call(emulator, 'DELETE', secretUrl('/app/rotating', '/versions?version=3'));
    expect(destroy.status).toBe(204);
    expect(destroy.json).toBeUndefined();
    const afterDestroy = secretMetadataSchema.parse(
      (await call(emulator, 'GET', secretUrl('/app/rotating', '?includeVersions=true'))).json,
    );
    expect(afterDestroy.currentVersion).toBe(2);
    expect(afterDestroy.objectVersion).toBe(4);
    expect(afterDestroy.versions).toEqual([
      expect.objectContaining({ version: 1, status: 'active', valueFormat: 'string' }),
      expect.objectContaining({ version: 2, status: 'active', stage: 'current' }),
      expect.objectContaining({ version: 3, status: 'destroyed', valueFormat: 'keyValue' }),
    ]);
    expect(afterDestroy.versions?.[2]?.destroyedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(afterDestroy.versions?.[0]?.stage).toBeUndefined();
    expect((await revealed('/app/rotating')).text).toBe('two');
    expect((await call(emulator, 'DELETE', secretUrl('/app/rotating', '/versions?version=3'))).status).toBe(204);

    const fourth = await call(emulator, 'POST', secretUrl('/app/rotating', '/versions'), { body: { secretString: b64('4') } });
    expect(fourth.json).toEqual({ path: '/app/rotating', version: 4 });
  });

  it('reports currentVersion 0 once every version is destroyed', async () => {
    await createSecret(emulator, '/app/gone');
    await call(emulator, 'DELETE', secretUrl('/app/gone', '/versions?version=1'));
    const metadata = secretMetadataSchema.parse((await call(emulator, 'GET', secretUrl('/app/gone'))).json);
    expect(metadata.currentVersion).toBe(0);
  });

  it('deletes a secret with all versions; the path can be created again from version 1', async () => {
    await createSecret(emulator, '/app/reuse', 'old');
    await call(emulator, 'POST', secretUrl('/app/reuse', '/versions'), { body: { secretString: b64('newer') } });
    const deleted = await call(emulator, 'DELETE', secretUrl('/app/reuse'));
    expect(deleted.status).toBe(204);
    expect((await call(emulator, 'GET', secretUrl('/app/reuse'))).status).toBe(404);
    const again = await createSecret(emulator, '/app/reuse', 'fresh');
    expect(again.status).toBe(201);
    expect(secretMetadataSchema.parse(again.json).currentVersion).toBe(1);
    expect((await revealed('/app/reuse')).text).toBe('fresh');
  });

  it('generates a value of the requested length', async () => {
    const created = await call(emulator, 'POST', collectionUrl(), {
      body: { path: '/app/generated', kmsKeyIdentity: kmsKey, generateSecret: { byteLength: 32 } },
    });
    expect(created.status).toBe(201);
    const value = revealResponseSchema.parse((await call(emulator, 'POST', secretUrl('/app/generated', '/value'))).json);
    expect(Buffer.from(value.secretString ?? '', 'base64')).toHaveLength(32);
  });

  it('keeps arbitrary bytes intact', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
    await call(emulator, 'POST', collectionUrl(), {
      body: { path: '/bin/blob', kmsKeyIdentity: kmsKey, secretString: bytes.toString('base64') },
    });
    const value = revealResponseSchema.parse((await call(emulator, 'POST', secretUrl('/bin/blob', '/value'))).json);
    expect(Buffer.from(value.secretString ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('sets and clears an access policy, bumping objectVersion', async () => {
    await createSecret(emulator, '/app/policy');
    const policy = { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/8'] }] };
    const set = await call(emulator, 'PUT', secretUrl('/app/policy', '/policy'), { body: { accessPolicy: policy } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ accessPolicy: policy, objectVersion: 2 });
    const cleared = await call(emulator, 'PUT', secretUrl('/app/policy', '/policy'), { body: { accessPolicy: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ objectVersion: 3 });
    expect(cleared.json).not.toHaveProperty('accessPolicy');
  });

  it('accepts a reveal body that repeats the path, as the official client sends it', async () => {
    await createSecret(emulator, '/app/echo', 'x');
    expect((await revealed('/app/echo', { path: '/app/echo', version: 1 })).text).toBe('x');
    const mismatch = await call(emulator, 'POST', secretUrl('/app/echo', '/value'), { body: { path: '/app/other' } });
    expect(mismatch.status).toBe(400);
  });
});

describe('browse and flat list', () => {
  beforeEach(async () => {
    for (const path of ['/app/production/db/password', '/app/production/api-key', '/app/staging/db/password', '/top']) {
      await createSecret(emulator, path);
    }
  });

  it('browses one level: child prefixes and the secrets directly at that level', async () => {
    const root = browseResponseSchema.parse((await call(emulator, 'GET', collectionUrl('?path=/'))).json);
    expect(root.path).toBe('/');
    expect(root.prefixes).toEqual(['/app/']);
    expect(root.secrets?.map((s) => s.path)).toEqual(['/top']);
    const production = browseResponseSchema.parse((await call(emulator, 'GET', collectionUrl('?path=/app/production/'))).json);
    expect(production.prefixes).toEqual(['/app/production/db/']);
    expect(production.secrets?.map((s) => s.path)).toEqual(['/app/production/api-key']);
    expect(production.secrets?.[0]).toMatchObject({ currentVersion: 1, kmsKey: { identity: kmsKey } });
  });

  it('lists every secret under a prefix as a bare array without versions', async () => {
    const listed = await call(emulator, 'GET', collectionUrl('?pathPrefix=/app/'));
    expect(listed.status).toBe(200);
    const secrets = secretListSchema.parse(listed.json);
    expect(secrets.map((s) => s.path)).toEqual([
      '/app/production/api-key',
      '/app/production/db/password',
      '/app/staging/db/password',
    ]);
    expect(secrets.every((s) => s.versions === undefined)).toBe(true);
    expect(secretListSchema.parse((await call(emulator, 'GET', collectionUrl('?pathPrefix=/'))).json)).toHaveLength(4);
  });

  it('filters both to what the caller may read', async () => {
    const auth = 'Token prod-reader-pat';
    const listed = secretListSchema.parse((await call(emulator, 'GET', collectionUrl('?pathPrefix=/'), { auth })).json);
    expect(listed.map((s) => s.path)).toEqual(['/app/production/api-key', '/app/production/db/password']);
    const root = browseResponseSchema.parse((await call(emulator, 'GET', collectionUrl('?path=/'), { auth })).json);
    expect(root.prefixes).toEqual(['/app/']);
    expect(root.secrets).toEqual([]);
    const app = browseResponseSchema.parse((await call(emulator, 'GET', collectionUrl('?path=/app/'), { auth })).json);
    expect(app.prefixes).toEqual(['/app/production/']);
  });

  it('rejects a browse path that is not a directory and a request with neither parameter', async () => {
    expect((await call(emulator, 'GET', collectionUrl('?path=/app'))).status).toBe(400);
    expect((await call(emulator, 'GET', collectionUrl())).status).toBe(400);
    expect((await call(emulator, 'GET', collectionUrl('?pathPrefix=app'))).status).toBe(400);
  });
});

describe('paths in URLs', () => {
  it('keeps + literal in the embedded path', async () => {
    expect((await createSecret(emulator, '/app/a+b', 'plus')).status).toBe(201);
    const metadata = await call(emulator, 'GET', secretUrl('/app/a+b'));
    expect(metadata.json).toMatchObject({ path: '/app/a+b' });
    expect((await revealed('/app/a+b')).text).toBe('plus');
    expect((await call(emulator, 'GET', secretUrl('/app/a b'))).status).toBe(400);
  });

  it('supports the ?path= form for every secret endpoint', async () => {
    const q = (path: string, extra = ''): string => `?path=${encodeURIComponent(path)}${extra}`;
    await createSecret(emulator, '/app/q+x', 'one');
    const base = `/v1/secrets/${region}/secret`;
    expect((await call(emulator, 'GET', `${base}${q('/app/q+x')}`)).json).toMatchObject({ path: '/app/q+x' });
    const added = await call(emulator, 'POST', `${base}/versions${q('/app/q+x')}`, { body: { secretString: b64('two') } });
    expect(added.json).toEqual({ path: '/app/q+x', version: 2 });
    const value = await call(emulator, 'POST', `${base}/value${q('/app/q+x')}`, { body: { version: 1 } });
    expect(value.json).toMatchObject({ version: 1, secretString: b64('one') });
    const policy = await call(emulator, 'PUT', `${base}/policy${q('/app/q+x')}`, { body: { accessPolicy: null } });
    expect(policy.status).toBe(200);
    expect((await call(emulator, 'DELETE', `${base}/versions${q('/app/q+x', '&version=2')}`)).status).toBe(204);
    expect((await call(emulator, 'DELETE', `${base}${q('/app/q+x')}`)).status).toBe(204);
    expect((await call(emulator, 'GET', `${base}${q('/app/q+x')}`)).status).toBe(404);
  });

  it('tells apart a secret whose path ends in /versions from the versions endpoint', async () => {
    await createSecret(emulator, '/app/versions', 'named-versions');
    expect((await call(emulator, 'GET', secretUrl('/app/versions'))).json).toMatchObject({ path: '/app/versions' });
    expect((await call(emulator, 'DELETE', secretUrl('/app/versions'))).status).toBe(204);
  });
});

describe('scopes', () => {
  it('keeps organisation, project and region scopes apart and accepts the organisation slug', async () => {
    await createSecret(emulator, '/app/scoped', 'org');
    const inProject = await call(emulator, 'POST', collectionUrl(), {
      project: 'prj-1',
      body: { path: '/app/scoped', kmsKeyIdentity: kmsKey, secretString: b64('project') },
    });
    expect(inProject.status).toBe(201);
    const projectValue = await call(emulator, 'POST', secretUrl('/app/scoped', '/value'), { project: 'prj-1' });
    expect(projectValue.json).toMatchObject({ secretString: b64('project') });
    const bySlug = await call(emulator, 'POST', secretUrl('/app/scoped', '/value'), { org: 'acme' });
    expect(bySlug.json).toMatchObject({ secretString: b64('org') });
    emulator.putSecret({ organisation, region, path: '/only/org', secretString: 'x' });
    expect((await call(emulator, 'GET', secretUrl('/only/org'), { project: 'prj-1' })).status).toBe(404);
  });

  it('answers the KMS summary for the caller organisation', async () => {
    const summary = await call(emulator, 'GET', '/v1/kms/summary');
    expect(summary.status).toBe(200);
    expect(summary.json).toEqual({
      featureEnabled: true,
      regions: [
        expect.objectContaining({ slug: 'nl-01', kmsAvailable: true, totalKeys: 2, activeKeys: 1, disabledKeys: 1 }),
        expect.objectContaining({ slug: 'de-01', kmsAvailable: false, totalKeys: 1, activeKeys: 1, pendingDeletionKeys: 0 }),
      ],
    });
  });
});
