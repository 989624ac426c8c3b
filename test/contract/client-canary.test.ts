/**
Canaries: a secret value and every kind of credential are planted, the client runs with a debug
logger through successes and failures, and none of them may show up in a log line or in any form
of an error the operator might log or put in a status.
*/
import { describe, expect, it } from 'vitest';
import { signJwt } from '../../src/emulator/index.ts';
import { serializeError } from '../../src/observability/logger.ts';
import { ThalassaError } from '../../src/thalassa/index.ts';
import type { ThalassaAdminClient } from '../support/thalassa-admin-client.ts';
import {
  captureLogs,
  clientSeed,
  jwtAudience,
  jwtIssuer,
  jwtSubject,
  kmsKey,
  organisation,
  region,
  rsaKeyPair,
  serviceAccountId,
  startMisbehavingServer,
  startRecordingProxy,
  useEmulator,
  type CapturedLogs,
} from './client-fixtures.ts';

const federationKey = rsaKeyPair();
const h = useEmulator(() => ({ seed: clientSeed(federationKey) }));

const canaryValue = 'CANARY-VALUE-b7e1d2f0';
const canaryKeyValue = 'CANARY-KV-VALUE-49aa0c';
const canaryPat = 'CANARY-PAT-5f0c11ee';
const canaryBearer = 'CANARY-BEARER-91d2c3aa';
const canaryClientSecret = 'CANARY-CLIENT-SECRET-0e7d';
const canarySubject = 'CANARY-SUBJECT-TOKEN-c41b';
const fast = { limit: 2, baseDelayMs: 1, maxDelayMs: 2 } as const;

/** Runs a call and keeps its error (every failure path here is expected to fail). */
async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Every textual form an error takes when the operator logs it or writes it into a status. */
function renderings(error: unknown): string[] {
  const forms = [String(error), JSON.stringify(error), JSON.stringify(serializeError(error))];
  if (error instanceof Error) {
    forms.push(error.message, error.stack ?? '', JSON.stringify(Object.entries(error)));
    if (error instanceof ThalassaError && 'serverMessage' in error) forms.push(String(error.serverMessage));
  }
  return forms;
}

function expectNoCanary(canaries: readonly string[], logs: CapturedLogs, errors: readonly unknown[]): void {
  expect(logs.lines.length).toBeGreaterThan(0);
  expect(errors.length).toBeGreaterThan(0);
  for (const canary of canaries) {
    for (const line of logs.lines) expect(line, 'a log line').not.toContain(canary);
    for (const error of errors) {
      for (const form of renderings(error)) expect(form, `a rendering of ${String(error)}`).not.toContain(canary);
    }
  }
}

/** Failures of one client: 403, 404, 400, 429 and 503 retries, drops, a timeout, an abort, refusal. */
async function exerciseFailures(client: ThalassaAdminClient, slowClient: ThalassaAdminClient): Promise<unknown[]> {
  const { emulator } = h;
  const errors: unknown[] = [];
  const policy = { conditions: [{ type: 'ip' as const, effect: 'allow' as const, cidrs: ['10.0.0.0/8'] }] };
  emulator.setAccessPolicy({ organisation, region, path: '/canary/string', policy });
  errors.push(await failure(client.reveal('/canary/string')));
  emulator.setAccessPolicy({ organisation, region, path: '/canary/string', policy: null });
  errors.push(await failure(client.reveal('/canary/missing')));
  errors.push(await failure(client.reveal('/canary/string', { version: 99 })));

  emulator.setFaults({ errors: [{ status: 429, rate: 1, retryAfterSeconds: 0, operations: ['reveal'] }] });
  errors.push(await failure(client.reveal('/canary/string')));
  emulator.setFaults({ errors: [{ status: 503, rate: 1, operations: ['reveal', 'addVersion'] }] });
  errors.push(await failure(client.reveal('/canary/kv')));
  errors.push(await failure(client.addVersion('/canary/string', { string: canaryValue })));
  emulator.setFaults({ dropRate: 1 });
  errors.push(await failure(client.reveal('/canary/string')));
  errors.push(await failure(client.addVersion('/canary/kv', { keyValues: { password: canaryKeyValue } })));
  emulator.setFaults({ dropMidResponseRate: 1 });
  errors.push(await failure(client.reveal('/canary/string')));
  emulator.setFaults({ latency: { fixedMs: 400, operations: ['reveal'] } });
  errors.push(await failure(slowClient.reveal('/canary/string')));
  errors.push(await failure(client.reveal('/canary/string', { signal: AbortSignal.timeout(50) })));
  emulator.setFaults({ outage: 'refuse' });
  await emulator.settled();
  errors.push(await failure(client.reveal('/canary/string')));
  emulator.setFaults({});
  await emulator.settled();
  return errors;
}

describe('canaries', () => {
  it('never leak a value or a personal access token', async () => {
    h.emulator.seed({ personalAccessTokens: [{ token: canaryPat, principal: 'admin' }] });
    const logs = captureLogs();
    const options = { credential: { type: 'personalAccessToken' as const, token: canaryPat }, logger: logs.logger, retry: fast };
    const client = h.client(options);
    const slowClient = h.client({ ...options, timeoutMs: 100 });

    await client.create({ path: '/canary/string', kmsKeyIdentity: kmsKey, payload: { string: canaryValue } });
    await client.create({ path: '/canary/kv', kmsKeyIdentity: kmsKey, payload: { keyValues: { password: canaryKeyValue } } });
    const revealed = await client.reveal('/canary/string');
    if (revealed.value.format !== 'string') throw new Error('expected a string value');
    expect(revealed.value.bytes.toString('utf8')).toBe(canaryValue);
    expect((await client.reveal('/canary/kv')).value).toEqual({ format: 'keyValue', values: { password: canaryKeyValue } });

    const errors = await exerciseFailures(client, slowClient);
    // Add-version of the value to a secret that does not exist, and a create that conflicts.
    errors.push(await failure(client.addVersion('/canary/none', { string: canaryValue })));
    errors.push(await failure(client.create({ path: '/canary/kv', kmsKeyIdentity: kmsKey, payload: { keyValues: { p: canaryKeyValue } } })));
    // A wrong token that is itself a canary.
    const wrong = h.client({ ...options, credential: { type: 'personalAccessToken', token: `${canaryPat}-wrong` } });
    errors.push(await failure(wrong.reveal('/canary/string')));

    expect(logs.lines.some((line) => line.includes('retrying'))).toBe(true);
    expectNoCanary([canaryValue, canaryKeyValue, canaryPat, Buffer.from(canaryValue).toString('base64')], logs, errors);
  });

  it('never leak an access token', async () => {
    h.emulator.seed({ accessTokens: [{ token: canaryBearer, principal: 'admin' }] });
    h.emulator.putSecret({ organisation, region, path: '/canary/string', secretString: canaryValue });
    h.emulator.putSecret({ organisation, region, path: '/canary/kv', secretKeyValues: { password: canaryKeyValue } });
    const logs = captureLogs();
    const options = { credential: { type: 'accessToken' as const, token: canaryBearer }, logger: logs.logger, retry: fast };
    const client = h.client(options);
    await client.reveal('/canary/string');
    const errors = await exerciseFailures(client, h.client({ ...options, timeoutMs: 100 }));
    h.emulator.setFaults({ errors: [{ status: 401, rate: 1 }] });
    errors.push(await failure(client.reveal('/canary/string')));
    h.emulator.setFaults({});
    expectNoCanary([canaryValue, canaryKeyValue, canaryBearer], logs, errors);
  });

  it('never leak a client secret or the access tokens it buys', async () => {
    h.emulator.seed({ oidcClients: [{ clientId: 'canary-client', clientSecret: canaryClientSecret, principal: 'admin' }] });
    h.emulator.putSecret({ organisation, region, path: '/canary/string', secretString: canaryValue });
    h.emulator.putSecret({ organisation, region, path: '/canary/kv', secretKeyValues: { password: canaryKeyValue } });
    const proxy = await startRecordingProxy(h.emulator.url);
    h.track(proxy);
    const logs = captureLogs();
    const credential = { type: 'clientCredentials' as const, clientId: 'canary-client', clientSecret: canaryClientSecret };
    const options = { apiURL: proxy.url, credential, logger: logs.logger, retry: fast };
    const client = h.client(options);
    await client.reveal('/canary/string');
    const errors = await exerciseFailures(client, h.client({ ...options, timeoutMs: 100 }));
    // A 401 from the API (refresh and retry) and from the token endpoint (a wrong secret).
    h.emulator.setFaults({ errors: [{ status: 401, rate: 1, operations: ['reveal'] }] });
    errors.push(await failure(client.reveal('/canary/string')));
    h.emulator.setFaults({});
    const wrong = h.client({ ...options, credential: { ...credential, clientSecret: `${canaryClientSecret}-wrong` } });
    errors.push(await failure(wrong.reveal('/canary/string')));

    const issued = [...new Set(proxy.requests.map((r) => r.headers.authorization).filter((a) => a?.startsWith('Bearer ')))];
    expect(issued.length).toBeGreaterThanOrEqual(2);
    const tokens = issued.map((header) => header?.slice('Bearer '.length) ?? '');
    expectNoCanary([canaryValue, canaryKeyValue, canaryClientSecret, ...tokens], logs, errors);
  });

  it('never leak a subject token', async () => {
    h.emulator.putSecret({ organisation, region, path: '/canary/string', secretString: canaryValue });
    h.emulator.putSecret({ organisation, region, path: '/canary/kv', secretKeyValues: { password: canaryKeyValue } });
    const subjects: string[] = [];
    const subjectFor = (audience: string) => async () => {
      await Promise.resolve();
      const now = Math.floor(h.emulator.now() / 1000);
      const jwt = signJwt({ iss: jwtIssuer, sub: jwtSubject, aud: [audience], iat: now, exp: now + 600 }, federationKey.privateKey);
      subjects.push(jwt);
      return jwt;
    };
    const logs = captureLogs();
    const options = {
      credential: { type: 'tokenExchange' as const, serviceAccountId, subjectToken: subjectFor(jwtAudience) },
      logger: logs.logger,
      retry: fast,
    };
    const client = h.client(options);
    await client.reveal('/canary/string');
    const errors = await exerciseFailures(client, h.client({ ...options, timeoutMs: 100 }));
    const rejected = h.client({ ...options, credential: { ...options.credential, subjectToken: subjectFor('not-accepted') } });
    errors.push(await failure(rejected.reveal('/canary/string')));
    expect(subjects.length).toBeGreaterThanOrEqual(3);
    expectNoCanary([canaryValue, canaryKeyValue, ...subjects], logs, errors);
  });

  it('never leak a credential or a value that a server echoes back in its error message', async () => {
    // It echoes the Authorization header and the request body it got (JSON, or the token form).
    const echo = await startMisbehavingServer((req, body) => ({
      status: req.url === '/oidc/token' ? 401 : 400,
      body: JSON.stringify({ message: `rejected ${req.headers.authorization ?? ''} with ${body}` }),
    }));
    h.track(echo);
    const logs = captureLogs();
    const errors: unknown[] = [];
    const pat = h.client({ apiURL: echo.url, credential: { type: 'personalAccessToken', token: canaryPat }, logger: logs.logger });
    errors.push(await failure(pat.create({ path: '/canary/x', kmsKeyIdentity: kmsKey, payload: { string: canaryValue } })));
    errors.push(await failure(pat.addVersion('/canary/x', { keyValues: { password: canaryKeyValue } })));
    const bearer = h.client({ apiURL: echo.url, credential: { type: 'accessToken', token: canaryBearer }, logger: logs.logger });
    errors.push(await failure(bearer.reveal('/canary/x')));
    const oidc = h.client({
      apiURL: echo.url,
      credential: { type: 'clientCredentials', clientId: 'c', clientSecret: canaryClientSecret },
      logger: logs.logger,
    });
    errors.push(await failure(oidc.reveal('/canary/x')));
    const exchange = h.client({
      apiURL: echo.url,
      credential: { type: 'tokenExchange', serviceAccountId, subjectToken: async () => await Promise.resolve(canarySubject) },
      logger: logs.logger,
    });
    errors.push(await failure(exchange.reveal('/canary/x')));
    // The rest of the server's explanation is kept.
    expect(String(errors[0])).toContain('rejected');
    expectNoCanary(
      [canaryPat, canaryBearer, canaryClientSecret, canarySubject, canaryValue, Buffer.from(canaryValue).toString('base64'), canaryKeyValue],
      logs,
      errors,
    );
  });
});
