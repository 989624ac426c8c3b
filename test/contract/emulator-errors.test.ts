import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  b64,
  call,
  collectionUrl,
  contractSeed,
  createSecret,
  kmsKey,
  messageOf,
  organisation,
  region,
  secretUrl,
} from './emulator-fixtures.ts';

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator({ seed: contractSeed(), maxValueBytes: 1024, maxKeys: 3 });
  emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'x' });
});
afterEach(async () => {
  await emulator.stop();
});

describe('400 bad request', () => {
  it('rejects invalid paths with a message about the path', async () => {
    for (const path of ['/app//x', '/app/x/', 'app/x', '/app/x$', '/']) {
      const result = await createSecret(emulator, path);
      expect(result.status, path).toBe(400);
      expect(messageOf(result)).toContain('path');
    }
    const embedded = await call(emulator, 'GET', `/v1/secrets/${region}/secret/app//x`);
    expect(embedded.status).toBe(400);
    expect(messageOf(embedded)).toContain('path');
  });

  it('rejects invalid base64 strictly', async () => {
    for (const secretString of ['not base64!', 'aGVsbG8', 'aGVsbG9=', 'aGVs bG8=', 'aGVsbG8_']) {
      const result = await call(emulator, 'POST', collectionUrl(), {
        body: { path: '/app/new', kmsKeyIdentity: kmsKey, secretString },
      });
      expect(result.status, secretString).toBe(400);
      expect(messageOf(result)).toContain('base64');
    }
  });

  it('enforces the size limit on strings and key/value maps, and the key count', async () => {
    const big = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      body: { secretString: Buffer.alloc(1025).toString('base64') },
    });
    expect(big.status).toBe(400);
    expect(messageOf(big)).toContain('size limit');
    const exact = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      body: { secretString: Buffer.alloc(1024).toString('base64') },
    });
    expect(exact.status).toBe(201);
    const bigMap = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      body: { secretKeyValues: { k: 'v'.repeat(1024) } },
    });
    expect(messageOf(bigMap)).toContain('size limit');
    const manyKeys = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      body: { secretKeyValues: { a: '1', b: '2', c: '3', d: '4' } },
    });
    expect(manyKeys.status).toBe(400);
  });

  it('requires exactly one value form and a valid generateSecret length', async () => {
    const bodies = [
      { path: '/app/n', kmsKeyIdentity: kmsKey },
      { path: '/app/n', kmsKeyIdentity: kmsKey, secretString: b64('a'), secretKeyValues: { a: 'b' } },
      { path: '/app/n', kmsKeyIdentity: kmsKey, generateSecret: { byteLength: 8 } },
      { path: '/app/n', secretString: b64('a') },
    ];
    for (const body of bodies) expect((await call(emulator, 'POST', collectionUrl(), { body })).status).toBe(400);
  });

  it('rejects bad JSON', async () => {
    const result = await call(emulator, 'POST', collectionUrl(), {
      body: '{"path":',
      headers: { 'content-type': 'application/json' },
    });
    expect(result.status).toBe(400);
    expect(messageOf(result)).toContain('JSON');
  });

  it('refuses a destroyed version, a secret without active versions and a bad version number', async () => {
    emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'two' });
    emulator.destroyVersion({ organisation, region, path: '/app/x', version: 1 });
    const destroyed = await call(emulator, 'POST', secretUrl('/app/x', '/value'), { body: { version: 1 } });
    expect(destroyed.status).toBe(400);
    expect(messageOf(destroyed)).toContain('destroyed');
    emulator.destroyVersion({ organisation, region, path: '/app/x', version: 2 });
    const none = await call(emulator, 'POST', secretUrl('/app/x', '/value'));
    expect(none.status).toBe(400);
    expect(messageOf(none)).toContain('no active version');
    for (const version of ['', 'abc', '0', '-1', '1.5']) {
      expect((await call(emulator, 'DELETE', secretUrl('/app/x', `/versions?version=${version}`))).status).toBe(400);
    }
  });

  it('refuses a disabled KMS key on create, reveal and add-version', async () => {
    const create = await call(emulator, 'POST', collectionUrl(), {
      body: { path: '/app/n', kmsKeyIdentity: 'kms-off', secretString: b64('a') },
    });
    expect(create.status).toBe(400);
    expect(messageOf(create)).toBe('kms key kms-off is disabled');
    emulator.setKmsKeyStatus(kmsKey, 'disabled');
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'))).status).toBe(400);
    const add = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), { body: { secretString: b64('b') } });
    expect(messageOf(add)).toContain('disabled');
    emulator.setKmsKeyStatus(kmsKey, 'active');
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'))).status).toBe(200);
  });

  it('requires the organisation header', async () => {
    const result = await call(emulator, 'GET', secretUrl('/app/x'), { org: null });
    expect(result.status).toBe(400);
    expect(messageOf(result)).toBe('X-Organisation-Identity header is required');
  });
});

describe('401 unauthorized', () => {
  it('rejects missing, unknown and mis-schemed credentials', async () => {
    const cases = [null, 'Token nope', 'Bearer nope', 'Bearer admin-pat', 'Token operator-bearer', 'Basic abc', 'Token'];
    for (const auth of cases) {
      const result = await call(emulator, 'GET', secretUrl('/app/x'), { auth });
      expect(result.status, String(auth)).toBe(401);
      expect(messageOf(result)).not.toBe('');
    }
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { auth: 'Bearer operator-bearer' })).status).toBe(200);
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { auth: 'token admin-pat' })).status).toBe(200);
  });

  it('rejects an expired seeded access token', async () => {
    emulator.seed({ accessTokens: [{ token: 'old', principal: 'operator', expiresAt: '2001-01-01T00:00:00Z' }] });
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { auth: 'Bearer old' })).status).toBe(401);
  });
});

describe('403 forbidden', () => {
  it('rejects an organisation the principal is not a member of, or an unknown one', async () => {
    for (const org of ['org-2', 'nope']) {
      const result = await call(emulator, 'GET', secretUrl('/app/x'), { org });
      expect(result.status).toBe(403);
      expect(messageOf(result)).toBe(`principal is not a member of organisation ${org}`);
    }
  });

  it('rejects organisations with the secrets or kms feature off', async () => {
    for (const [auth, org] of [['Token gated-pat', 'org-gated'], ['Token nokms-pat', 'org-nokms']] as const) {
      const result = await call(emulator, 'GET', collectionUrl('?pathPrefix=/'), { auth, org });
      expect(result.status).toBe(403);
      expect(messageOf(result)).toContain('feature');
    }
    emulator.setFeature('acme', 'kms', false);
    expect(messageOf(await call(emulator, 'GET', secretUrl('/app/x')))).toContain('feature');
    const summary = await call(emulator, 'GET', '/v1/kms/summary');
    expect(summary.json).toMatchObject({ featureEnabled: false });
  });

  it('names the missing IAM action and path', async () => {
    const reveal = await call(emulator, 'POST', secretUrl('/app/x', '/value'), { auth: 'Token prod-reader-pat' });
    expect(reveal.status).toBe(403);
    expect(messageOf(reveal)).toBe('permission denied: getSecretValue on /app/x');
    const read = await call(emulator, 'GET', secretUrl('/app/x'), { auth: 'Token prod-reader-pat' });
    expect(messageOf(read)).toBe('permission denied: read on /app/x');
    const write = await createSecret(emulator, '/app/y');
    expect(write.status).toBe(201);
    const operatorWrite = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      auth: 'Token operator-pat',
      body: { secretString: b64('z') },
    });
    expect(messageOf(operatorWrite)).toBe('permission denied: putSecretValue on /app/x');
    expect((await call(emulator, 'GET', secretUrl('/app/missing'), { auth: 'Token prod-reader-pat' })).status).toBe(403);
  });

  it('applies ip access policies to reveal and add-version only, judging X-Forwarded-For first', async () => {
    emulator.setAccessPolicy({
      organisation,
      region,
      path: '/app/x',
      policy: {
        conditions: [
          { type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/8'] },
          { type: 'ip', effect: 'deny', cidrs: ['10.6.6.0/24'] },
        ],
      },
    });
    const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': `${ip}, 192.0.2.1` });
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'), { headers: from('10.1.2.3') })).status).toBe(200);
    const denied = await call(emulator, 'POST', secretUrl('/app/x', '/value'), { headers: from('10.6.6.6') });
    expect(denied.status).toBe(403);
    expect(messageOf(denied)).toContain('policy');
    const outside = await call(emulator, 'POST', secretUrl('/app/x', '/value'), { headers: { 'x-real-ip': '192.0.2.7' } });
    expect(outside.status).toBe(403);
    expect(messageOf(outside)).toContain('policy');
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'))).status).toBe(403);
    const write = await call(emulator, 'POST', secretUrl('/app/x', '/versions'), {
      headers: from('10.6.6.1'),
      body: { secretString: b64('n') },
    });
    expect(messageOf(write)).toContain('policy');
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { headers: from('10.6.6.6') })).status).toBe(200);
  });

  it('rejects an invalid policy', async () => {
    const result = await call(emulator, 'PUT', secretUrl('/app/x', '/policy'), {
      body: { accessPolicy: { conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/33'] }] } },
    });
    expect(result.status).toBe(400);
  });
});

describe('404 not found', () => {
  it('for a missing secret, version, project, region and KMS key', async () => {
    const secret = await call(emulator, 'GET', secretUrl('/app/missing'));
    expect(secret.status).toBe(404);
    expect(messageOf(secret)).toContain('/app/missing');
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'), { body: { version: 9 } })).status).toBe(404);
    expect((await call(emulator, 'DELETE', secretUrl('/app/x', '/versions?version=9'))).status).toBe(404);
    expect((await call(emulator, 'DELETE', secretUrl('/app/missing'))).status).toBe(404);
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { project: 'prj-1' })).status).toBe(404);
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { project: 'prj-unknown' })).status).toBe(404);
    const wrongRegion = await call(emulator, 'GET', '/v1/secrets/xx-99/secret/app/x');
    expect(wrongRegion.status).toBe(404);
    expect(messageOf(wrongRegion)).toContain('region not found');
    for (const kmsKeyIdentity of ['kms-nope', 'kms-2', 'kms-de']) {
      const result = await call(emulator, 'POST', collectionUrl(), {
        body: { path: '/app/n', kmsKeyIdentity, secretString: b64('a') },
      });
      expect(result.status, kmsKeyIdentity).toBe(404);
      expect(messageOf(result)).toContain('kms key not found');
    }
    expect((await call(emulator, 'GET', '/v2/elsewhere')).status).toBe(404);
  });
});

describe('409, 413 and 503', () => {
  it('409 when the path exists in the same scope', async () => {
    const result = await createSecret(emulator, '/app/x');
    expect(result.status).toBe(409);
    expect((await call(emulator, 'POST', collectionUrl(), {
      project: 'prj-1',
      body: { path: '/app/x', kmsKeyIdentity: kmsKey, secretString: b64('a') },
    })).status).toBe(201);
  });

  it('413 for a body over 2 MiB', async () => {
    const result = await call(emulator, 'POST', collectionUrl(), {
      body: { path: '/app/huge', kmsKeyIdentity: kmsKey, secretString: 'A'.repeat(2 * 1024 * 1024 + 4) },
    });
    expect(result.status).toBe(413);
  });

  it('503 when the region has no KMS, for create, reveal and add-version', async () => {
    const url = '/v1/secrets/de-01';
    const create = await call(emulator, 'POST', `${url}/secrets`, {
      body: { path: '/app/de', kmsKeyIdentity: 'kms-de', secretString: b64('a') },
    });
    expect(create.status).toBe(503);
    expect(messageOf(create)).toBe('KMS is not available in region de-01');
    emulator.putSecret({ organisation, region: 'de-01', path: '/app/de', secretString: 'x' });
    expect((await call(emulator, 'POST', `${url}/secret/app/de/value`)).status).toBe(503);
    const add = await call(emulator, 'POST', `${url}/secret/app/de/versions`, { body: { secretString: b64('b') } });
    expect(add.status).toBe(503);
    expect((await call(emulator, 'GET', `${url}/secret/app/de`)).status).toBe(200);
    emulator.setRegionKms('de-01', true);
    expect((await call(emulator, 'POST', `${url}/secret/app/de/value`)).status).toBe(200);
    emulator.setRegionKms(region, false);
    expect((await call(emulator, 'POST', secretUrl('/app/x', '/value'))).status).toBe(503);
  });
});
