/**
Shared set-up for the client contract tests: the real `ThalassaClient` (as `ThalassaAdminClient`,
which adds the write endpoints tests need) against the emulator over HTTP on loopback. Also a pass-through recording proxy (to see the client's requests on the wire), a
log capture, and a deliberately broken HTTP server for the client's response-validation defences.
*/
import { generateKeyPairSync } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline, Writable } from 'node:stream';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  startEmulator,
  type CountedOperation,
  type Emulator,
  type EmulatorOptions,
  type EmulatorSeed,
} from '../../src/emulator/index.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { ThalassaClientOptions } from '../../src/thalassa/index.ts';
import { ThalassaAdminClient } from '../support/thalassa-admin-client.ts';
import { contractSeed } from './emulator-fixtures.ts';

export { kmsKey, organisation, region } from './emulator-fixtures.ts';

export const project = 'prj-1';
export const oidcClientId = 'client-1';
export const oidcClientSecret = 'client-1-secret';
export const serviceAccountId = 'sa-1';
export const jwtIssuer = 'https://kubernetes.default.svc';
export const jwtSubject = 'system:serviceaccount:thalassa-system:thalassa-secrets-operator';
export const jwtAudience = 'thalassa';

export interface KeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** An RSA key pair for signing subject tokens; generated once per test file (it is slow-ish). */
export function rsaKeyPair(): KeyPair {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The emulator contract seed plus an OIDC client and (with a public key) a federated identity. */
export function clientSeed(federationKey?: KeyPair): EmulatorSeed {
  const seed = contractSeed();
  return {
    ...seed,
    oidcClients: [{ clientId: oidcClientId, clientSecret: oidcClientSecret, principal: 'operator' }],
    ...(federationKey
      ? {
          federatedIdentities: [
            {
              serviceAccountId,
              organisation: 'org-1',
              principal: 'operator',
              subject: jwtSubject,
              issuer: jwtIssuer,
              audiences: [jwtAudience],
              publicKeyPem: federationKey.publicKey,
            },
          ],
        }
      : {}),
  };
}

/** Small delays so that retry tests take milliseconds; tests that study backoff override them. */
export const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 } as const;

export interface Harness {
  readonly emulator: Emulator;
  /** A client for the emulator (or `apiURL`), closed after the test. Admin PAT and org-1 by default. */
  client(overrides?: Partial<ThalassaClientOptions>): ThalassaAdminClient;
  /** A server closed after the test. */
  track(server: { close(): Promise<void> }): void;
  /** Another emulator, for tests that need their own options; stopped after the test. */
  start(options: EmulatorOptions): Promise<Emulator>;
}

/**
Starts a fresh emulator before each test of the file (and stops it after), so counters and faults
never leak between tests. `options` is read per test.
*/
export function useEmulator(options: () => EmulatorOptions = () => ({ seed: clientSeed() })): Harness {
  let emulator: Emulator | undefined;
  const clients: ThalassaAdminClient[] = [];
  const servers: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    emulator = await startEmulator(options());
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => await client.close()));
    await Promise.all(servers.splice(0).map(async (server) => await server.close()));
    await emulator?.stop();
    emulator = undefined;
  });
  const harness: Harness = {
    get emulator(): Emulator {
      if (!emulator) throw new Error('the emulator runs only inside a test');
      return emulator;
    },
    client(overrides = {}) {
      const client = new ThalassaAdminClient({
        apiURL: harness.emulator.url,
        region: 'nl-01',
        organisation: 'org-1',
        credential: { type: 'personalAccessToken', token: 'admin-pat' },
        retry: fastRetry,
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    track(server) {
      servers.push(server);
    },
    async start(startOptions) {
      const extra = await startEmulator(startOptions);
      servers.push({ close: async () => { await extra.stop(); } });
      return extra;
    },
  };
  return harness;
}

/** Requests the emulator counted for one operation, by status (`'200'`, `'dropped'`...). */
export function countsOf(emulator: Emulator, operation: CountedOperation): Record<string, number> {
  return { ...emulator.counters().byOperation[operation] };
}

/** Every request the emulator counted for one operation, whatever the status. */
export function requestsOf(emulator: Emulator, operation: CountedOperation): number {
  return Object.values(emulator.counters().byOperation[operation]).reduce((sum, n) => sum + n, 0);
}

/**
Awaits a rejection and checks its class and fields; returns the error for further checks. Fails
the test when the promise resolves.
*/
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => E,
  fields: Partial<Record<keyof E, unknown>> = {},
): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${errorClass.name}`).toBeInstanceOf(errorClass);
  const error = caught as E;
  for (const [key, value] of Object.entries(fields)) {
    expect((error as unknown as Record<string, unknown>)[key], `${errorClass.name}.${key}`).toEqual(value);
  }
  return error;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RecordingProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
A real pass-through HTTP proxy in front of the emulator: it records each request (method, URL,
headers, body) and forwards it unchanged, then streams the emulator's answer back unchanged.
*/
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const targetUrl = new URL(target);
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      const upstream = httpRequest(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // A connection the emulator cuts mid-answer is cut towards the client too.
          pipeline(answer, res, (error) => {
            if (error) res.destroy();
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    })();
  });
  const url = await listen(server);
  return { url, requests, close: async () => { await closeServer(server); } };
}

export interface MisbehavingAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
  /** Send the headers and half of the body, then stall. */
  readonly stallBody?: boolean;
}

export interface MisbehavingServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
NOT an emulation of Thalassa: a minimal HTTP server that answers every request with one fixed,
broken response, to check that the client refuses what it cannot trust.
*/
export async function startMisbehavingServer(
  answer: (req: IncomingMessage, body: string) => MisbehavingAnswer,
): Promise<MisbehavingServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const received = (await readBody(req)).toString('utf8');
      const { status, body, contentType, stallBody } = answer(req, received);
      res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
      // Headers and the start of the body, then nothing more until the client gives up.
      if (stallBody) res.write(body.slice(0, Math.floor(body.length / 2)));
      else res.end(body);
    })();
  });
  const url = await listen(server);
  return { url, close: async () => { await closeServer(server); } };
}

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line the logger wrote, as written (JSON). */
  readonly lines: string[];
}

/** A debug-level operator logger whose lines land in memory. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/** Bytes that are not valid UTF-8 (and include NUL), to prove values travel as bytes. */
export const binaryValue = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x0d, 0x7f, 0xe2, 0x82]);
