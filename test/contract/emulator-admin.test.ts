import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  admin,
  b64,
  call,
  collectionUrl,
  contractSeed,
  createSecret,
  messageOf,
  organisation,
  region,
  secretUrl,
} from './emulator-fixtures.ts';

const workDir = mkdtempSync(join(tmpdir(), 'emulator-admin-'));
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('counters and admin endpoint', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startEmulator({ seed: contractSeed() });
  });
  afterEach(async () => {
    await emulator.stop();
  });

  it('counts every API request exactly, per operation and status, and nothing from admin', async () => {
    await createSecret(emulator, '/app/a');
    await createSecret(emulator, '/app/a');
    await call(emulator, 'POST', secretUrl('/app/a', '/value'));
    await call(emulator, 'POST', secretUrl('/app/a', '/value'));
    await call(emulator, 'POST', secretUrl('/app/nope', '/value'));
    await call(emulator, 'GET', collectionUrl('?pathPrefix=/'));
    await call(emulator, 'GET', collectionUrl('?path=/'));
    await call(emulator, 'GET', secretUrl('/app/a'), { auth: null });
    await call(emulator, 'GET', '/nowhere');
    await admin(emulator, 'POST', '/secrets/put', { organisation, region, path: '/app/b', secretString: 'b' });
    const snapshot = emulator.counters();
    expect(snapshot.total).toBe(9);
    expect(snapshot.byOperation.create).toEqual({ '201': 1, '409': 1 });
    expect(snapshot.byOperation.reveal).toEqual({ '200': 2, '404': 1 });
    expect(snapshot.byOperation.list).toEqual({ '200': 1 });
    expect(snapshot.byOperation.browse).toEqual({ '200': 1 });
    expect(snapshot.byOperation.get).toEqual({ '401': 1 });
    expect(snapshot.byOperation.unrouted).toEqual({ '404': 1 });
    expect(snapshot.byOperation.token).toEqual({});
    expect((await admin(emulator, 'GET', '/counters')).json).toEqual(snapshot);
    expect((await admin(emulator, 'POST', '/counters/reset')).status).toBe(204);
    expect(emulator.counters().total).toBe(0);
    await call(emulator, 'GET', secretUrl('/app/a'));
    emulator.resetCounters();
    expect(emulator.counters()).toMatchObject({ total: 0, byOperation: { get: {} } });
  });

  it('puts, destroys and deletes secrets, and sets policies, keys, regions and features', async () => {
    const put = async (body: object): Promise<unknown> =>
      (await admin(emulator, 'POST', '/secrets/put', { organisation, region, path: '/app/s', ...body })).json;
    expect(await put({ secretString: 'plain' })).toEqual({ version: 1 });
    expect(await put({ secretStringBase64: Buffer.from([0, 1, 2]).toString('base64') })).toEqual({ version: 2 });
    expect(await put({ secretKeyValues: { k: 'v' } })).toEqual({ version: 3 });
    const value = async (version: number): Promise<unknown> =>
      (await call(emulator, 'POST', secretUrl('/app/s', '/value'), { body: { version } })).json;
    expect(await value(1)).toMatchObject({ secretString: b64('plain') });
    expect(await value(2)).toMatchObject({ secretString: 'AAEC' });
    expect(await value(3)).toMatchObject({ secretKeyValues: { k: 'v' } });

    const locator = { organisation: 'acme', region, path: '/app/s' };
    expect((await admin(emulator, 'POST', '/secrets/destroy-version', { ...locator, version: 3 })).status).toBe(204);
    expect((await call(emulator, 'GET', secretUrl('/app/s'))).json).toMatchObject({ currentVersion: 2 });
    const policy = { conditions: [{ type: 'ip', effect: 'deny', cidrs: ['0.0.0.0/0', '::/0'] }] };
    expect((await admin(emulator, 'POST', '/secrets/policy', { ...locator, policy })).status).toBe(204);
    expect(messageOf(await call(emulator, 'POST', secretUrl('/app/s', '/value')))).toContain('policy');
    await admin(emulator, 'POST', '/secrets/policy', { ...locator, policy: null });
    expect((await call(emulator, 'POST', secretUrl('/app/s', '/value'))).status).toBe(200);

    await admin(emulator, 'POST', '/kms-keys/status', { identity: 'kms-1', status: 'disabled' });
    expect((await call(emulator, 'POST', secretUrl('/app/s', '/value'))).status).toBe(400);
    await admin(emulator, 'POST', '/kms-keys/status', { identity: 'kms-1', status: 'active' });
    await admin(emulator, 'POST', '/regions/kms', { slug: region, kms: false });
    expect((await call(emulator, 'POST', secretUrl('/app/s', '/value'))).status).toBe(503);
    await admin(emulator, 'POST', '/regions/kms', { slug: region, kms: true });
    await admin(emulator, 'POST', '/features', { organisation, feature: 'secrets', enabled: false });
    expect((await call(emulator, 'POST', secretUrl('/app/s', '/value'))).status).toBe(403);
    await admin(emulator, 'POST', '/features', { organisation, feature: 'secrets', enabled: true });

    expect((await admin(emulator, 'POST', '/secrets/delete', locator)).status).toBe(204);
    expect((await call(emulator, 'GET', secretUrl('/app/s'))).status).toBe(404);
    expect(emulator.counters().total).toBeGreaterThan(0);
  });

  it('seeds idempotently and rejects bad input with 400', async () => {
    const seed = {
      principals: [{ name: 'late', organisation, permissions: [{ actions: ['read', 'list'] }] }],
      personalAccessTokens: [{ token: 'late-pat', principal: 'late' }],
      secrets: [
        {
          organisation,
          region,
          path: '/seeded',
          versions: [{ secretString: 'one' }, { secretString: 'two', destroyed: true }],
        },
      ],
    };
    expect((await admin(emulator, 'POST', '/seed', seed)).status).toBe(204);
    expect((await admin(emulator, 'POST', '/seed', seed)).status).toBe(204);
    const metadata = await call(emulator, 'GET', secretUrl('/seeded', '?includeVersions=true'), { auth: 'Token late-pat' });
    expect(metadata.json).toMatchObject({
      currentVersion: 1,
      versions: [{ version: 1, status: 'active' }, { version: 2, status: 'destroyed' }],
    });
    const bad = [
      ['/seed', { principals: [{ name: 'x', organisation: 'nope', permissions: [] }] }],
      ['/seed', { unknownField: true }],
      ['/secrets/put', { organisation, region, path: 'bad path', secretString: 'x' }],
      ['/secrets/put', { organisation, region, path: '/x' }],
      ['/secrets/destroy-version', { organisation, region, path: '/seeded', version: 9 }],
      ['/secrets/delete', { organisation, region, path: '/missing' }],
      ['/kms-keys/status', { identity: 'nope', status: 'active' }],
      ['/regions/kms', { slug: 'nope', kms: true }],
      ['/features', { organisation: 'nope', feature: 'kms', enabled: true }],
    ] as const;
    for (const [path, body] of bad) {
      const result = await admin(emulator, 'POST', path, body);
      expect(result.status, path).toBe(400);
      expect(messageOf(result)).not.toBe('');
    }
    expect(() => {
      emulator.seed({ regions: [{ slug: 'x' }], kmsKeys: [{ identity: 'k', organisation: 'ghost', region: 'x' }] });
    }).toThrow(/ghost/);
    expect((await admin(emulator, 'GET', '/nope')).status).toBe(404);
    expect((await admin(emulator, 'GET', '/healthz')).json).toEqual({ ok: true });
  });
});

describe('persistence', () => {
  it('restores secrets, history, timestamps and credentials from the state file', async () => {
    const persistFile = join(workDir, 'state.json');
    const first = await startEmulator({ seed: contractSeed(), persistFile });
    await createSecret(first, '/app/p', 'one', { labels: { a: 'b' } });
    await call(first, 'POST', secretUrl('/app/p', '/versions'), { body: { secretKeyValues: { user: 'u' } } });
    await call(first, 'POST', secretUrl('/app/p', '/versions'), { body: { secretString: 'AMg=' } });
    await call(first, 'DELETE', secretUrl('/app/p', '/versions?version=2'));
    await call(first, 'POST', secretUrl('/app/p', '/value'), { body: { version: 1 } });
    await call(first, 'PUT', secretUrl('/app/p', '/policy'), {
      body: { accessPolicy: { conditions: [{ type: 'time', effect: 'allow', startHour: 0, endHour: 24 }] } },
    });
    await call(first, 'POST', collectionUrl(), {
      project: 'prj-1',
      body: { path: '/app/p', kmsKeyIdentity: 'kms-1', secretString: b64('project') },
    });
    const before = (await call(first, 'GET', secretUrl('/app/p', '?includeVersions=true'))).json;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(JSON.parse(readFileSync(persistFile, 'utf8'))).toMatchObject({ format: 'thalassa-secrets-emulator/v1' });
    await first.stop();

    const second = await startEmulator({ persistFile });
    try {
      expect((await call(second, 'GET', secretUrl('/app/p', '?includeVersions=true'))).json).toEqual(before);
      const reveal = async (options: Parameters<typeof call>[3] = {}): Promise<unknown> =>
        (await call(second, 'POST', secretUrl('/app/p', '/value'), options)).json;
      expect(await reveal()).toMatchObject({ version: 3, secretString: 'AMg=' });
      expect(await reveal({ body: { version: 1 } })).toMatchObject({ secretString: b64('one') });
      expect(await reveal({ body: { version: 2 } })).toMatchObject({ message: expect.stringContaining('destroyed') as unknown });
      expect(await reveal({ project: 'prj-1' })).toMatchObject({ secretString: b64('project') });
      expect((await call(second, 'GET', secretUrl('/app/p'), { auth: 'Bearer operator-bearer' })).status).toBe(200);
      const next = await call(second, 'POST', secretUrl('/app/p', '/versions'), { body: { secretString: b64('four') } });
      expect(next.json).toEqual({ path: '/app/p', version: 4 });
    } finally {
      await second.stop();
    }
  });

  it('reseeding over a persisted state leaves persisted secrets as they are', async () => {
    const persistFile = join(workDir, 'reseed.json');
    const seed = { ...contractSeed(), secrets: [{ organisation, region, path: '/s', versions: [{ secretString: 'seeded' }] }] };
    const first = await startEmulator({ seed, persistFile });
    first.putSecret({ organisation, region, path: '/s', secretString: 'changed' });
    await first.stop();
    const second = await startEmulator({ seed, persistFile });
    try {
      const value = await call(second, 'POST', secretUrl('/s', '/value'));
      expect(value.json).toMatchObject({ version: 2, secretString: b64('changed') });
    } finally {
      await second.stop();
    }
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('TLS', () => {
  it.skipIf(!hasOpenssl())('serves HTTPS with the given certificate', async () => {
    const cert = join(workDir, 'cert.pem');
    const key = join(workDir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const tls = { cert: readFileSync(cert), key: readFileSync(key, 'utf8') };
    const emulator = await startEmulator({ seed: contractSeed(), tls });
    try {
      expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = httpsRequest(
          `${emulator.url}/v1/kms/summary`,
          { ca: readFileSync(cert), headers: { authorization: 'Token admin-pat', 'x-organisation-identity': organisation } },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(emulator.adminUrl).toMatch(/^http:/);
    } finally {
      await emulator.stop();
    }
  });
});

describe('CLI', () => {
  it('serves the demo seed, prints both URLs and stops on SIGTERM', async () => {
    const seedFile = join(workDir, 'seed.json');
    const secrets = [{ organisation, region, path: '/cli', versions: [{ secretString: 'hi' }] }];
    writeFileSync(seedFile, JSON.stringify({ ...contractSeed(), secrets }));
    for (const args of [[], ['--seed', seedFile, '--latency-ms', '5']]) {
      const child = spawn(process.execPath, ['src/emulator/main.ts', '--port', '0', ...args], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const lines = createInterface({ input: child.stdout });
      const urls: string[] = [];
      for await (const line of lines) {
        urls.push(line.replace(/^.*: /, ''));
        if (urls.length === 2) break;
      }
      const [api = '', adminUrl = ''] = urls;
      const token = args.length === 0 ? 'demo-operator-token' : 'operator-pat';
      const org = args.length === 0 ? 'demo' : organisation;
      const headers = { authorization: `Token ${token}`, 'x-organisation-identity': org };
      const summary = await fetch(`${api}/v1/kms/summary`, { headers });
      expect(summary.status).toBe(200);
      expect((await fetch(`${adminUrl}/healthz`)).status).toBe(200);
      if (args.length > 0) {
        const value = await fetch(`${api}/v1/secrets/${region}/secret/cli/value`, {
          method: 'POST',
          headers,
        });
        expect(await value.json()).toMatchObject({ secretString: b64('hi') });
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
