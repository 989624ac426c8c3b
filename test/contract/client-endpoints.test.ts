/** Every Secrets Manager endpoint through the real client, against the emulator over HTTP. */
import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError, type AccessPolicy } from '../../src/thalassa/index.ts';
import { version } from '../../src/version.ts';
import {
  binaryValue,
  clientSeed,
  countsOf,
  kmsKey,
  organisation,
  project,
  region,
  rejectionOf,
  startRecordingProxy,
  useEmulator,
} from './client-fixtures.ts';

const h = useEmulator();

const ipPolicy: AccessPolicy = { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['127.0.0.0/8', '::1'] }] };

describe('create and reveal', () => {
  it('creates a string secret from bytes and reveals exactly those bytes, including non-UTF-8', async () => {
    const client = h.client();
    const created = await client.create({ path: '/app/bin', kmsKeyIdentity: kmsKey, payload: { string: binaryValue } });
    expect(created).toMatchObject({ path: '/app/bin', currentVersion: 1, kmsKey: { identity: kmsKey } });

    const revealed = await client.reveal('/app/bin');
    expect(revealed.path).toBe('/app/bin');
    expect(revealed.version).toBe(1);
    if (revealed.value.format !== 'string') throw new Error('expected a string value');
    expect(Buffer.compare(revealed.value.bytes, binaryValue)).toBe(0);
    expect([...revealed.value.bytes]).toEqual([...binaryValue]);
  });

  it('sends a JS string as its UTF-8 bytes and gets them back', async () => {
    const client = h.client();
    await client.create({ path: '/app/utf8', kmsKeyIdentity: kmsKey, payload: { string: 'pässwörd ✓ 🔑' } });
    const revealed = await client.reveal('/app/utf8');
    if (revealed.value.format !== 'string') throw new Error('expected a string value');
    expect(revealed.value.bytes.toString('utf8')).toBe('pässwörd ✓ 🔑');
  });

  it('round-trips an empty string value', async () => {
    const client = h.client();
    await client.create({ path: '/app/empty', kmsKeyIdentity: kmsKey, payload: { string: '' } });
    const revealed = await client.reveal('/app/empty');
    expect(revealed.value).toEqual({ format: 'string', bytes: Buffer.alloc(0) });
  });

  it('creates a key/value secret and reveals the map exactly as stored (raw strings)', async () => {
    const client = h.client();
    const values = { username: 'admin', password: 'p@ss word=', 'dotted.key': 'YWRtaW4=' };
    await client.create({ path: '/app/creds', kmsKeyIdentity: kmsKey, payload: { keyValues: values } });
    const revealed = await client.reveal('/app/creds');
    // The client does not decode: whether values are base64 is a per-source setting of the CRD.
    expect(revealed.value).toEqual({ format: 'keyValue', values });
  });

  it('creates a server-generated value of the requested length', async () => {
    const client = h.client();
    await client.create({ path: '/app/generated', kmsKeyIdentity: kmsKey, payload: { generate: { byteLength: 48 } } });
    const revealed = await client.reveal('/app/generated');
    if (revealed.value.format !== 'string') throw new Error('expected a string value');
    expect(revealed.value.bytes).toHaveLength(48);
  });

  it('sends description, labels, annotations and an access policy on create', async () => {
    const client = h.client();
    const created = await client.create({
      path: '/app/described',
      kmsKeyIdentity: kmsKey,
      payload: { string: 'x' },
      description: 'primary db password',
      labels: { team: 'platform' },
      annotations: { owner: 'db-team' },
      accessPolicy: ipPolicy,
    });
    expect(created).toMatchObject({
      description: 'primary db password',
      labels: { team: 'platform' },
      annotations: { owner: 'db-team' },
      accessPolicy: ipPolicy,
    });
  });
});

describe('metadata and versions', () => {
  it('reads metadata without versions by default and with them on request', async () => {
    const client = h.client();
    await client.create({ path: '/app/meta', kmsKeyIdentity: kmsKey, payload: { string: 'one' } });
    await client.addVersion('/app/meta', { keyValues: { k: 'v' } });

    const plain = await client.getMetadata('/app/meta');
    expect(plain).toMatchObject({ path: '/app/meta', currentVersion: 2, objectVersion: 2 });
    expect(plain.versions ?? undefined).toBeUndefined();

    const full = await client.getMetadata('/app/meta', { includeVersions: true });
    expect(full.versions).toEqual([
      expect.objectContaining({ version: 1, status: 'active', valueFormat: 'string' }),
      expect.objectContaining({ version: 2, status: 'active', stage: 'current', valueFormat: 'keyValue' }),
    ]);
    expect(full.versions?.[0]?.stage ?? undefined).toBeUndefined();
  });

  it('adds versions, reveals the current one by default and any earlier one by number', async () => {
    const client = h.client();
    await client.create({ path: '/app/rotating', kmsKeyIdentity: kmsKey, payload: { string: 'first' } });
    expect(await client.addVersion('/app/rotating', { string: Buffer.from('second') })).toBe(2);
    expect(await client.addVersion('/app/rotating', { generate: { byteLength: 16 } })).toBe(3);
    expect(await client.addVersion('/app/rotating', { string: binaryValue })).toBe(4);

    const current = await client.reveal('/app/rotating');
    expect(current.version).toBe(4);
    expect(current.value).toEqual({ format: 'string', bytes: binaryValue });
    const first = await client.reveal('/app/rotating', { version: 1 });
    expect(first.version).toBe(1);
    expect(first.value).toEqual({ format: 'string', bytes: Buffer.from('first') });
  });

  it('destroys versions: the value is gone, currentVersion falls back to the highest active one, then 0', async () => {
    const client = h.client();
    await client.create({ path: '/app/d', kmsKeyIdentity: kmsKey, payload: { string: 'v1' } });
    await client.addVersion('/app/d', { string: 'v2' });
    await client.addVersion('/app/d', { string: 'v3' });

    await client.destroyVersion('/app/d', 1);
    await rejectionOf(client.reveal('/app/d', { version: 1 }), BadRequestError, { status: 400, kind: 'versionDestroyed' });

    await client.destroyVersion('/app/d', 3);
    const afterCurrent = await client.getMetadata('/app/d', { includeVersions: true });
    expect(afterCurrent.currentVersion).toBe(2);
    expect(afterCurrent.versions?.map((v) => v.status)).toEqual(['destroyed', 'active', 'destroyed']);
    expect((await client.reveal('/app/d')).version).toBe(2);

    // Destroying an already destroyed version succeeds again.
    await client.destroyVersion('/app/d', 3);
    await client.destroyVersion('/app/d', 2);
    expect((await client.getMetadata('/app/d')).currentVersion).toBe(0);
    await rejectionOf(client.reveal('/app/d'), BadRequestError, { status: 400, kind: 'versionDestroyed' });
    expect(countsOf(h.emulator, 'destroyVersion')).toEqual({ '204': 4 });
  });

  it('sets and clears the access policy', async () => {
    const client = h.client();
    await client.create({ path: '/app/p', kmsKeyIdentity: kmsKey, payload: { string: 'x' } });
    const set = await client.setPolicy('/app/p', ipPolicy);
    expect(set.accessPolicy).toEqual(ipPolicy);
    expect((await client.getMetadata('/app/p')).accessPolicy).toEqual(ipPolicy);
    // Loopback is allowed, so the reveal still works under the policy.
    expect((await client.reveal('/app/p')).version).toBe(1);

    const cleared = await client.setPolicy('/app/p', null);
    expect(cleared.accessPolicy).toBeUndefined();
    expect((await client.getMetadata('/app/p')).accessPolicy).toBeUndefined();
    expect(cleared.objectVersion).toBe(3);
  });

  it('deletes a secret; the path can be created again and starts at version 1', async () => {
    const client = h.client();
    await client.create({ path: '/app/gone', kmsKeyIdentity: kmsKey, payload: { string: 'x' } });
    await client.addVersion('/app/gone', { string: 'y' });
    await client.delete('/app/gone');
    await rejectionOf(client.getMetadata('/app/gone'), NotFoundError, { status: 404 });
    await rejectionOf(client.delete('/app/gone'), NotFoundError, { status: 404 });
    const again = await client.create({ path: '/app/gone', kmsKeyIdentity: kmsKey, payload: { string: 'z' } });
    expect(again.currentVersion).toBe(1);
    expect(countsOf(h.emulator, 'delete')).toEqual({ '204': 1, '404': 1 });
  });
});

describe('browse and list', () => {
  it('browses one directory level: child prefixes and the secrets directly at that level', async () => {
    for (const path of ['/app/prod/db/password', '/app/prod/db/user', '/app/prod/config', '/app/dev/x', '/top']) {
      h.emulator.putSecret({ organisation, region, path, secretString: 'x' });
    }
    const client = h.client();
    const root = await client.browse('/');
    expect(root.path).toBe('/');
    expect(root.prefixes).toEqual(['/app/']);
    expect(root.secrets?.map((s) => s.path)).toEqual(['/top']);

    const prod = await client.browse('/app/prod/');
    expect(prod.prefixes).toEqual(['/app/prod/db/']);
    expect(prod.secrets?.map((s) => s.path)).toEqual(['/app/prod/config']);
    expect(prod.secrets?.[0]).toMatchObject({ currentVersion: 1 });
    expect(countsOf(h.emulator, 'browse')).toEqual({ '200': 2 });
  });

  it('lists every secret under a prefix, flat, as a plain string prefix, without values', async () => {
    for (const path of ['/app/a/b/c', '/app/a/d', '/app/z', '/application/x', '/other/y']) {
      h.emulator.putSecret({ organisation, region, path, secretString: 'value' });
    }
    const client = h.client();
    expect((await client.list('/app/')).map((s) => s.path)).toEqual(['/app/a/b/c', '/app/a/d', '/app/z']);
    expect((await client.list('/app')).map((s) => s.path)).toEqual(['/app/a/b/c', '/app/a/d', '/app/z', '/application/x']);
    expect((await client.list('/')).length).toBe(5);
    expect(await client.list('/nothing/')).toEqual([]);
    const [first] = await client.list('/app/a/d');
    expect(first).toMatchObject({ path: '/app/a/d', currentVersion: 1 });
    expect(first?.versions ?? undefined).toBeUndefined();
    expect(JSON.stringify(first)).not.toContain('value');
  });
});

describe('scoping', () => {
  it('keeps project-scoped and organisation-scoped secrets apart (another scope is a 404)', async () => {
    const inProject = h.client({ project });
    const orgScoped = h.client();
    await inProject.create({ path: '/app/scoped', kmsKeyIdentity: kmsKey, payload: { string: 'project' } });
    await orgScoped.create({ path: '/app/org-only', kmsKeyIdentity: kmsKey, payload: { string: 'org' } });

    await rejectionOf(orgScoped.reveal('/app/scoped'), NotFoundError, { status: 404, serverMessage: 'secret not found: /app/scoped' });
    await rejectionOf(orgScoped.getMetadata('/app/scoped'), NotFoundError, { status: 404 });
    await rejectionOf(inProject.reveal('/app/org-only'), NotFoundError, { status: 404 });
    expect((await orgScoped.list('/')).map((s) => s.path)).toEqual(['/app/org-only']);
    expect((await inProject.list('/')).map((s) => s.path)).toEqual(['/app/scoped']);
    expect((await inProject.reveal('/app/scoped')).value).toEqual({ format: 'string', bytes: Buffer.from('project') });
  });

  it('accepts the organisation by slug as well as by identity', async () => {
    h.emulator.putSecret({ organisation, region, path: '/app/s', secretString: 'x' });
    expect((await h.client({ organisation: 'acme' }).reveal('/app/s')).version).toBe(1);
  });

  it('addresses secrets of another region only through a client of that region', async () => {
    h.emulator.seed({ regions: [{ slug: 'be-01' }], kmsKeys: [{ identity: 'kms-be', organisation, region: 'be-01' }] });
    h.emulator.putSecret({ organisation, region: 'be-01', path: '/app/r', secretString: 'x' });
    await rejectionOf(h.client().getMetadata('/app/r'), NotFoundError, { status: 404 });
    const be = h.client({ region: 'be-01' });
    expect(be.region).toBe('be-01');
    expect((await be.getMetadata('/app/r')).kmsKey?.identity).toBe('kms-be');
  });
});

describe('on the wire', () => {
  it('embeds a path with "+" raw in the URL and sends it percent-encoded in queries', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const client = h.client({ apiURL: proxy.url });
    await client.create({ path: '/app/a+b', kmsKeyIdentity: kmsKey, payload: { string: 'plus' } });
    expect(await client.addVersion('/app/a+b', { string: 'plus2' })).toBe(2);
    expect((await client.reveal('/app/a+b', { version: 1 })).value).toEqual({ format: 'string', bytes: Buffer.from('plus') });
    expect((await client.getMetadata('/app/a+b')).path).toBe('/app/a+b');
    expect((await client.list('/app/a+')).map((s) => s.path)).toEqual(['/app/a+b']);
    await client.setPolicy('/app/a+b', null);
    await client.destroyVersion('/app/a+b', 1);
    await client.delete('/app/a+b');
    // A secret "/app/a b" would be a different one: make sure the "+" never turned into a space.
    h.emulator.putSecret({ organisation, region, path: '/app/a+c', secretString: 'x' });
    await rejectionOf(client.getMetadata('/app/a+b'), NotFoundError);

    const urls = proxy.requests.map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual([
      'POST /v1/secrets/nl-01/secrets',
      'POST /v1/secrets/nl-01/secret/app/a+b/versions',
      'POST /v1/secrets/nl-01/secret/app/a+b/value',
      'GET /v1/secrets/nl-01/secret/app/a+b',
      'GET /v1/secrets/nl-01/secrets?pathPrefix=%2Fapp%2Fa%2B',
      'PUT /v1/secrets/nl-01/secret/app/a+b/policy',
      'DELETE /v1/secrets/nl-01/secret/app/a+b/versions?version=1',
      'DELETE /v1/secrets/nl-01/secret/app/a+b',
      'GET /v1/secrets/nl-01/secret/app/a+b',
    ]);
  });

  it('sends User-Agent, organisation and project headers, Accept and JSON bodies on every endpoint', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const client = h.client({ apiURL: proxy.url, project });
    await client.create({ path: '/app/h', kmsKeyIdentity: kmsKey, payload: { string: 'x' } });
    await client.browse('/app/');
    await client.list('/app/');
    await client.getMetadata('/app/h', { includeVersions: true });
    await client.setPolicy('/app/h', ipPolicy);
    await client.addVersion('/app/h', { string: 'y' });
    await client.reveal('/app/h');
    await client.destroyVersion('/app/h', 1);
    await client.delete('/app/h');

    expect(proxy.requests).toHaveLength(9);
    for (const request of proxy.requests) {
      expect(request.headers['user-agent']).toBe(`thalassa-secrets-operator/${version}`);
      expect(request.headers['x-organisation-identity']).toBe(organisation);
      expect(request.headers['x-project-identity']).toBe(project);
      expect(request.headers.authorization).toBe('Token admin-pat');
      expect(request.headers.accept).toBe('application/json');
      if (request.method === 'POST' || request.method === 'PUT') {
        expect(request.headers['content-type']).toMatch(/^application\/json/);
        expect(() => JSON.parse(request.body) as unknown).not.toThrow();
      }
    }
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const byUrl = (prefix: string) => proxy.requests.find((r) => `${r.method} ${r.url}`.startsWith(prefix));
    expect(JSON.parse(byUrl('POST /v1/secrets/nl-01/secrets')?.body ?? '')).toEqual({
      path: '/app/h',
      kmsKeyIdentity: kmsKey,
      secretString: Buffer.from('x').toString('base64'),
    });
    expect(byUrl('GET /v1/secrets/nl-01/secret/app/h')?.url).toBe('/v1/secrets/nl-01/secret/app/h?includeVersions=true');
    expect(JSON.parse(byUrl('POST /v1/secrets/nl-01/secret/app/h/value')?.body ?? '')).toEqual({ path: '/app/h' });
    expect(JSON.parse(byUrl('PUT /v1/secrets/nl-01/secret/app/h/policy')?.body ?? '')).toEqual({ accessPolicy: ipPolicy });
    expect(byUrl('GET /v1/secrets/nl-01/secrets?path=')?.url).toBe('/v1/secrets/nl-01/secrets?path=%2Fapp%2F');
  });

  it('sends no X-Project-Identity without a project, and a custom User-Agent when given', async () => {
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    h.emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'x' });
    await h.client({ apiURL: proxy.url, userAgent: 'custom/1.2.3' }).reveal('/app/x', { version: 1 });
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]?.headers['x-project-identity']).toBeUndefined();
    expect(proxy.requests[0]?.headers['user-agent']).toBe('custom/1.2.3');
    expect(JSON.parse(proxy.requests[0]?.body ?? '')).toEqual({ path: '/app/x', version: 1 });
  });
});

describe('key/value encoding', () => {
  const b64h = useEmulator(() => ({ seed: clientSeed(), keyValueEncoding: 'base64' }));

  it('returns base64 key/value values as the raw strings the server holds, without decoding', async () => {
    const client = b64h.client();
    const values = { username: Buffer.from('admin').toString('base64'), blob: binaryValue.toString('base64') };
    await client.create({ path: '/app/kv64', kmsKeyIdentity: kmsKey, payload: { keyValues: values } });
    expect((await client.reveal('/app/kv64')).value).toEqual({ format: 'keyValue', values });
  });
});
