import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { secretMetadataSchema } from '../../src/thalassa/wire.ts';
import { b64, call, collectionUrl, contractSeed, createSecret, kmsKey, messageOf, organisation, region, secretUrl } from './emulator-fixtures.ts';

/**
Access policies in both shapes: the documented `conditions` and the `statements` Thalassa's
official Go client (client-go `UpdateAccessPolicy`, used by Terraform and the CLI) sends, including
`{"accessPolicy":{}}`, which is what client-go sends to clear one (its `statements` are `omitempty`).
Request bodies are written out as the client puts them on the wire.
*/

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator({ seed: contractSeed() });
  await createSecret(emulator, '/app/x', 'v1');
});
afterEach(async () => {
  await emulator.stop();
});

const putPolicy = async (json: string) => await call(emulator, 'PUT', secretUrl('/app/x', '/policy'), { body: json });
const reveal = async (auth = 'Token admin-pat', headers: Record<string, string> = {}) =>
  await call(emulator, 'POST', secretUrl('/app/x', '/value'), { auth, headers, body: '{"path":"/app/x"}' });
const addVersion = async (auth = 'Token admin-pat') =>
  await call(emulator, 'POST', secretUrl('/app/x', '/versions'), { auth, body: { path: '/app/x', secretString: b64('v2') } });
const metadata = async () => secretMetadataSchema.parse((await call(emulator, 'GET', secretUrl('/app/x'))).json);

describe("the official client's statements", () => {
  it('accepts the body client-go sends and keeps the policy in metadata', async () => {
    const body = '{"accessPolicy":{"statements":[{"effect":"allow","actions":["secrets:get-value"]}]}}';
    const set = await putPolicy(body);
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ accessPolicy: { statements: [{ effect: 'allow', actions: ['secrets:get-value'] }] }, objectVersion: 2 });
    expect((await metadata()).accessPolicy).toEqual({ statements: [{ effect: 'allow', actions: ['secrets:get-value'] }] });
    // Allowing everyone to get the value refuses no one.
    expect((await reveal()).status).toBe(200);
    expect((await reveal('Token operator-pat')).status).toBe(200);
  });

  it('allows only the principals an allow statement names, for the actions it names', async () => {
    const set = await putPolicy('{"accessPolicy":{"statements":[{"effect":"allow","actions":["secrets:get-value"],"principals":["serviceaccount:operator"]}]}}');
    expect(set.status).toBe(200);
    expect((await reveal('Token operator-pat')).status).toBe(200);
    const refused = await reveal('Token admin-pat');
    expect(refused.status).toBe(403);
    expect(messageOf(refused)).toBe('access policy denies getSecretValue on /app/x from 127.0.0.1: no allow statement matches');
    // The statement is about reading the value: adding a version is not gated by it.
    expect((await addVersion('Token admin-pat')).status).toBe(201);
    // Metadata is never gated.
    expect((await call(emulator, 'GET', secretUrl('/app/x'), { auth: 'Token admin-pat' })).status).toBe(200);
  });

  it('rejects on a deny statement in Terraform spelling (Allow/Deny), for the principal and actions it names', async () => {
    const set = await putPolicy(
      '{"accessPolicy":{"statements":[{"effect":"Allow","principals":["team:admin","serviceaccount:operator"]},{"effect":"Deny","actions":["secrets:put-value"],"principals":["admin"]}]}}',
    );
    expect(set.status).toBe(200);
    expect((await reveal('Token admin-pat')).status).toBe(200);
    expect((await reveal('Token operator-pat')).status).toBe(200);
    const write = await addVersion('Token admin-pat');
    expect(write.status).toBe(403);
    expect(messageOf(write)).toBe('access policy denies putSecretValue on /app/x from 127.0.0.1: a deny statement matches');
    // A principal no allow statement names is refused both operations.
    emulator.seed({
      principals: [{ name: 'other', organisation, permissions: [{ actions: ['*'] }] }],
      personalAccessTokens: [{ token: 'other-pat', principal: 'other' }],
    });
    expect(messageOf(await reveal('Token other-pat'))).toContain('no allow statement matches');
    expect(messageOf(await addVersion('Token other-pat'))).toContain('no allow statement matches');
  });

  it('ignores statements about actions no policy gates, as Terraform documents (`read`)', async () => {
    const set = await putPolicy('{"accessPolicy":{"statements":[{"effect":"Allow","actions":["read"],"principals":["team:platform"]}]}}');
    expect(set.status).toBe(200);
    expect((await reveal('Token admin-pat')).status).toBe(200);
    expect((await addVersion('Token admin-pat')).status).toBe(201);
  });

  it('judges statements and conditions together: each must allow', async () => {
    const set = await putPolicy(
      JSON.stringify({
        accessPolicy: {
          conditions: [{ type: 'ip', effect: 'allow', cidrs: ['10.0.0.0/8'] }],
          statements: [{ effect: 'deny', actions: ['*'], principals: ['operator'] }],
        },
      }),
    );
    expect(set.status).toBe(200);
    const inside = { 'x-forwarded-for': '10.1.2.3' };
    expect((await reveal('Token admin-pat', inside)).status).toBe(200);
    expect(messageOf(await reveal('Token operator-pat', inside))).toContain('a deny statement matches');
    expect(messageOf(await reveal('Token admin-pat', { 'x-forwarded-for': '192.0.2.1' }))).toContain('no allow condition matches');
  });

  it('accepts statements on create, in the admin API and in seeds', async () => {
    const statements = [{ effect: 'deny', principals: ['operator'] }];
    const created = await call(emulator, 'POST', collectionUrl(), {
      body: { path: '/app/created', kmsKeyIdentity: kmsKey, secretString: b64('c'), accessPolicy: { statements } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ accessPolicy: { statements } });
    const refused = await call(emulator, 'POST', secretUrl('/app/created', '/value'), { auth: 'Token operator-pat' });
    expect(messageOf(refused)).toContain('a deny statement matches');

    emulator.setAccessPolicy({ organisation, region, path: '/app/x', policy: { statements } });
    expect((await reveal('Token operator-pat')).status).toBe(403);
    emulator.seed({ secrets: [{ organisation, region, path: '/app/seeded', versions: [{ secretString: 's' }], accessPolicy: { statements } }] });
    const seeded = await call(emulator, 'POST', secretUrl('/app/seeded', '/value'), { auth: 'Token operator-pat' });
    expect(seeded.status).toBe(403);
  });

  it('answers 400 to a statement without a valid effect', async () => {
    for (const body of [
      '{"accessPolicy":{"statements":[{"effect":"maybe","actions":["secrets:get-value"]}]}}',
      '{"accessPolicy":{"statements":[{"actions":["secrets:get-value"]}]}}',
      '{"accessPolicy":{"statements":[{"effect":"allow","principals":[""]}]}}',
    ]) {
      const result = await putPolicy(body);
      expect(result.status, body).toBe(400);
      expect(messageOf(result), body).toContain('invalid request body');
    }
    expect((await metadata()).accessPolicy).toBeUndefined();
  });
});

describe('clearing a policy', () => {
  const denyAll = JSON.stringify({ accessPolicy: { conditions: [{ type: 'ip', effect: 'deny', cidrs: ['0.0.0.0/0', '::/0'] }] } });

  it.each([
    ['{"accessPolicy":{}}', "client-go's empty policy"],
    ['{"accessPolicy":{"statements":[]}}', 'empty statements'],
    ['{"accessPolicy":{"conditions":[]}}', 'empty conditions'],
    ['{"accessPolicy":null}', 'the documented null'],
  ])('clears it with %s (%s)', async (body) => {
    expect((await putPolicy(denyAll)).status).toBe(200);
    expect((await reveal()).status).toBe(403);
    const cleared = await putPolicy(body);
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ objectVersion: 3 });
    expect(cleared.json).not.toHaveProperty('accessPolicy');
    expect((await metadata()).accessPolicy).toBeUndefined();
    expect((await reveal()).status).toBe(200);
  });

  it('clears a statements policy with {} as well', async () => {
    expect((await putPolicy('{"accessPolicy":{"statements":[{"effect":"deny"}]}}')).status).toBe(200);
    expect(messageOf(await reveal())).toContain('a deny statement matches');
    expect((await putPolicy('{"accessPolicy":{}}')).status).toBe(200);
    expect((await reveal()).status).toBe(200);
  });

  it('still answers 400 to a body without accessPolicy', async () => {
    expect((await putPolicy('{}')).status).toBe(400);
    expect((await putPolicy('{"statements":[]}')).status).toBe(400);
  });
});
