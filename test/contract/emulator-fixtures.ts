/** Shared seed and a tiny fetch wrapper for the emulator contract tests (real HTTP on loopback). */
import type { Emulator, EmulatorSeed } from '../../src/emulator/index.ts';

export const organisation = 'org-1';
export const region = 'nl-01';
export const kmsKey = 'kms-1';

/** Organisations, keys, principals and tokens every emulator test can lean on. */
export function contractSeed(): EmulatorSeed {
  return {
    organisations: [
      { identity: 'org-1', slug: 'acme', projects: ['prj-1'] },
      { identity: 'org-2', slug: 'other' },
      { identity: 'org-gated', features: { secrets: false } },
      { identity: 'org-nokms', features: { kms: false } },
    ],
    regions: [{ slug: 'nl-01' }, { slug: 'de-01', kms: false }],
    kmsKeys: [
      { identity: 'kms-1', organisation: 'org-1', region: 'nl-01' },
      { identity: 'kms-off', organisation: 'org-1', region: 'nl-01', status: 'disabled' },
      { identity: 'kms-de', organisation: 'org-1', region: 'de-01' },
      { identity: 'kms-2', organisation: 'org-2', region: 'nl-01' },
    ],
    principals: [
      { name: 'admin', organisation: 'acme', permissions: [{ actions: ['*'] }] },
      { name: 'operator', organisation: 'org-1', permissions: [{ actions: ['read', 'list', 'getSecretValue'] }] },
      {
        name: 'prod-reader',
        organisation: 'org-1',
        permissions: [{ actions: ['read', 'list'], resources: ['/app/production/*'] }],
      },
      { name: 'outsider', organisation: 'org-2', permissions: [{ actions: ['*'] }] },
      { name: 'gated', organisation: 'org-gated', permissions: [{ actions: ['*'] }] },
      { name: 'nokms', organisation: 'org-nokms', permissions: [{ actions: ['*'] }] },
    ],
    personalAccessTokens: [
      { token: 'admin-pat', principal: 'admin' },
      { token: 'operator-pat', principal: 'operator' },
      { token: 'prod-reader-pat', principal: 'prod-reader' },
      { token: 'outsider-pat', principal: 'outsider' },
      { token: 'gated-pat', principal: 'gated' },
      { token: 'nokms-pat', principal: 'nokms' },
    ],
    accessTokens: [{ token: 'operator-bearer', principal: 'operator' }],
  };
}

export interface CallOptions {
  /** Full Authorization header; default `Token admin-pat`. Null sends none. */
  readonly auth?: string | null;
  /** X-Organisation-Identity; default org-1. Null sends none. */
  readonly org?: string | null;
  readonly project?: string;
  /** An object is sent as JSON; a string or Buffer as is. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  readonly json: unknown;
}

export async function call(
  emulator: Emulator,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? 'Token admin-pat' : options.auth;
  if (auth !== null) headers['authorization'] = auth;
  const org = options.org === undefined ? organisation : options.org;
  if (org !== null) headers['x-organisation-identity'] = org;
  if (options.project !== undefined) headers['x-project-identity'] = options.project;
  let body: string | Buffer | undefined;
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${emulator.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** `{message}` of an error body. */
export function messageOf(result: CallResult): string {
  const json = result.json as { message?: unknown } | undefined;
  return typeof json?.message === 'string' ? json.message : '';
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export const secretUrl = (path: string, suffix = ''): string => `/v1/secrets/${region}/secret${path}${suffix}`;
export const collectionUrl = (query = ''): string => `/v1/secrets/${region}/secrets${query}`;

export async function createSecret(emulator: Emulator, path: string, value = 'v1', extra: object = {}): Promise<CallResult> {
  return await call(emulator, 'POST', collectionUrl(), {
    body: { path, kmsKeyIdentity: kmsKey, secretString: b64(value), ...extra },
  });
}

export async function admin(emulator: Emulator, method: string, path: string, body?: unknown): Promise<CallResult> {
  const response = await fetch(`${emulator.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}
