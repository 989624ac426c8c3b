import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signJwt, startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { oidcTokenResponseSchema } from '../../src/thalassa/wire.ts';
import { call, contractSeed, organisation, region, secretUrl } from './emulator-fixtures.ts';

const subject = 'system:serviceaccount:operators:thalassa-secrets-operator';
const issuer = 'https://kubernetes.default.svc';
const audience = 'thalassa';
let rsa: { publicKey: string; privateKey: string };
let otherRsa: { publicKey: string; privateKey: string };
let ec: { publicKey: string; privateKey: string };
let emulator: Emulator;
let now: number;

function rsaPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

beforeAll(() => {
  rsa = rsaPair();
  otherRsa = rsaPair();
  ec = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
});

beforeEach(async () => {
  now = Date.parse('2026-03-01T10:00:00Z');
  const seed = contractSeed();
  seed.oidcClients = [{ clientId: 'client-1', clientSecret: 'shh', principal: 'operator' }];
  seed.federatedIdentities = [
    {
      serviceAccountId: 'sa-1',
      organisation: 'acme',
      principal: 'operator',
      subject,
      issuer,
      audiences: [audience, 'other-aud'],
      publicKeyPem: rsa.publicKey,
    },
    { serviceAccountId: 'sa-ec', organisation, principal: 'operator', audiences: [audience], publicKeyPem: ec.publicKey },
    { serviceAccountId: 'sa-any', organisation, principal: 'admin', audiences: [audience] },
  ];
  emulator = await startEmulator({ seed, now: () => now, accessTokenLifetimeSeconds: 600 });
  emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'x' });
});
afterEach(async () => {
  await emulator.stop();
});

interface TokenResult {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResult> {
  const response = await fetch(`${emulator.url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const seconds = Math.floor(now / 1000);
  return { iss: issuer, sub: subject, aud: [audience], iat: seconds, exp: seconds + 600, ...overrides };
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function exchangeForm(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    organisation_id: organisation,
    service_account_id: 'sa-1',
    ...extra,
  };
}

async function revealWith(accessToken: string): Promise<number> {
  return (await call(emulator, 'POST', secretUrl('/app/x', '/value'), { auth: `Bearer ${accessToken}` })).status;
}

describe('client credentials', () => {
  it('issues a bearer token from form fields and from HTTP Basic', async () => {
    const fromForm = await tokenRequest({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'shh' });
    expect(fromForm.status).toBe(200);
    const token = oidcTokenResponseSchema.parse(fromForm.json);
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    expect(await revealWith(token.access_token)).toBe(200);
    const basic = Buffer.from('client-1:shh').toString('base64');
    const fromBasic = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(fromBasic.status).toBe(200);
  });

  it('answers 401 invalid_client for a wrong secret', async () => {
    const result = await tokenRequest({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'no' });
    expect(result.status).toBe(401);
    expect(result.json).toMatchObject({ error: 'invalid_client' });
  });

  it('issued tokens expire on the injected clock', async () => {
    const token = oidcTokenResponseSchema.parse(
      (await tokenRequest({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'shh' })).json,
    );
    now += 599_000;
    expect(await revealWith(token.access_token)).toBe(200);
    now += 1_000;
    expect(await revealWith(token.access_token)).toBe(401);
  });

  it('rejects an unknown grant type', async () => {
    const result = await tokenRequest({ grant_type: 'password' });
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ error: 'unsupported_grant_type' });
  });
});

describe('token exchange', () => {
  it('exchanges a signed RS256 service-account token for the identity principal with the asked lifetime', async () => {
    const result = await tokenRequest(exchangeForm(signJwt(claims(), rsa.privateKey), { access_token_lifetime: '120' }));
    expect(result.status).toBe(200);
    const token = oidcTokenResponseSchema.parse(result.json);
    expect(token.expires_in).toBe(120);
    expect(await revealWith(token.access_token)).toBe(200);
    now += 120_000;
    expect(await revealWith(token.access_token)).toBe(401);
  });

  it('accepts the id_token subject type, a string audience, the organisation slug and ES256', async () => {
    const jwt = signJwt(claims({ aud: audience }), ec.privateKey, 'ES256');
    const result = await tokenRequest(
      exchangeForm(jwt, {
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        organisation_id: 'acme',
        service_account_id: 'sa-ec',
      }),
    );
    expect(result.status).toBe(200);
    expect(result.json['expires_in']).toBe(600);
  });

  it('counts every exchange under the token operation', async () => {
    emulator.resetCounters();
    await tokenRequest(exchangeForm(signJwt(claims(), rsa.privateKey)));
    await tokenRequest(exchangeForm('garbage'));
    expect(emulator.counters().byOperation.token).toEqual({ '200': 1, '400': 1 });
  });

  const rejections: [string, () => Record<string, string>, string][] = [
    ['an expired token', () => exchangeForm(signJwt(claims({ exp: Math.floor(now / 1000) - 1 }), rsa.privateKey)), 'expired'],
    ['a wrong audience', () => exchangeForm(signJwt(claims({ aud: ['someone-else'] }), rsa.privateKey)), 'audience'],
    ['a bad signature', () => exchangeForm(signJwt(claims(), otherRsa.privateKey)), 'signature'],
    [
      'a tampered payload',
      () => {
        const [header, , signature] = signJwt(claims(), rsa.privateKey).split('.');
        const payload = Buffer.from(JSON.stringify(claims({ sub: 'system:serviceaccount:x:y' }))).toString('base64url');
        return exchangeForm(`${header ?? ''}.${payload}.${signature ?? ''}`);
      },
      'subject',
    ],
    ['a wrong subject', () => exchangeForm(signJwt(claims({ sub: 'system:serviceaccount:x:y' }), rsa.privateKey)), 'subject'],
    ['a wrong issuer', () => exchangeForm(signJwt(claims({ iss: 'https://elsewhere' }), rsa.privateKey)), 'issuer'],
    ['an unsigned token', () => exchangeForm(`${segment({ alg: 'none' })}.${segment(claims())}.`), 'signature'],
    [
      'an unknown service account',
      () => exchangeForm(signJwt(claims(), rsa.privateKey), { service_account_id: 'sa-x' }),
      'federated identity',
    ],
    [
      'another organisation',
      () => exchangeForm(signJwt(claims(), rsa.privateKey), { organisation_id: 'org-2' }),
      'federated identity',
    ],
    ['a non-JWT', () => exchangeForm('not-a-jwt'), 'JWT'],
  ];
  it.each(rejections)('rejects %s with 400 invalid_grant', async (_name, form, reason) => {
    const result = await tokenRequest(form());
    expect(result.status).toBe(400);
    expect(result.json['error']).toBe('invalid_grant');
    expect(String(result.json['error_description'])).toContain(reason);
  });

  it('rejects a lifetime out of range and an unknown subject token type as invalid_request', async () => {
    const jwt = signJwt(claims(), rsa.privateKey);
    for (const extra of [{ access_token_lifetime: '59' }, { access_token_lifetime: '86401' }, { subject_token_type: 'x' }]) {
      const result = await tokenRequest(exchangeForm(jwt, extra));
      expect(result.status).toBe(400);
      expect(result.json['error']).toBe('invalid_request');
    }
  });

  it('accepts any subject and an unsigned-check identity when neither is configured', async () => {
    const jwt = signJwt(claims({ sub: 'whoever', iss: 'anyone' }), otherRsa.privateKey);
    const result = await tokenRequest(exchangeForm(jwt, { service_account_id: 'sa-any' }));
    expect(result.status).toBe(200);
    const token = oidcTokenResponseSchema.parse(result.json);
    const created = await call(emulator, 'POST', `/v1/secrets/${region}/secrets`, {
      auth: `Bearer ${token.access_token}`,
      body: { path: '/app/by-admin', kmsKeyIdentity: 'kms-1', secretString: 'eA==' },
    });
    expect(created.status).toBe(201);
  });
});
