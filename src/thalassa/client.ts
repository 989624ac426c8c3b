import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import { fullJitterDelay } from './backoff.ts';
import type { ThalassaCredential } from './credentials.ts';
import { errorForResponse } from './error-for-response.ts';
import { InvalidResponseError } from './errors/invalid-response-error.ts';
import { RateLimitedError } from './errors/rate-limited-error.ts';
import type { ThalassaError } from './errors/thalassa-error.ts';
import { UnauthorizedError } from './errors/unauthorized-error.ts';
import { UnavailableError } from './errors/unavailable-error.ts';
import { HttpTransport, type TransportRequest } from './http-transport.ts';
import { assertValidPath, secretResourcePath, secretsCollectionPath } from './paths.ts';
import { TokenBucket } from './token-bucket.ts';
import { OidcTokenSource } from './token-source.ts';
import {
  browseResponseSchema,
  putVersionResponseSchema,
  revealResponseSchema,
  secretListSchema,
  secretMetadataSchema,
  type AccessPolicy,
  type BrowseResponse,
  type SecretMetadata,
} from './wire.ts';
import type { Logger } from '../observability/logger.ts';
import { version } from '../version.ts';

export const defaultApiURL = 'https://api.thalassa.cloud';

export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly limit: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited out in the call: the error goes to the caller. */
  readonly maxRetryAfterMs: number;
}

export interface ThalassaClientOptions {
  readonly apiURL?: string;
  readonly region: string;
  /** Identity or slug, sent as `X-Organisation-Identity`. */
  readonly organisation: string;
  /** Sent as `X-Project-Identity`; without it requests are organisation-scoped. */
  readonly project?: string | undefined;
  readonly credential: ThalassaCredential;
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryOptions>;
  /** Requests per second and burst for this client; shared by every caller of it. */
  readonly rateLimit?: { readonly requestsPerSecond: number; readonly burst: number } | undefined;
  readonly caBundle?: string | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
  readonly userAgent?: string;
  /** Debug lines per request and retry: operation, path, status, timing. Never a value or a token. */
  readonly logger?: Logger | undefined;
  /** Called once per HTTP attempt: for metrics. Never given a value or a token. */
  readonly onResponse?: ((operation: string, status: number | 'error', durationMs: number) => void) | undefined;
  readonly random?: () => number;
}

/** A revealed value: raw bytes for a string secret, the map as sent for a key/value secret. */
export type SecretValue =
  | { readonly format: 'string'; readonly bytes: Buffer }
  | { readonly format: 'keyValue'; readonly values: Readonly<Record<string, string>> };

export interface RevealedSecret {
  readonly path: string;
  readonly version: number;
  readonly value: SecretValue;
}

/** What a create or add-version request carries: bytes (base64 on the wire), a map, or a server-generated value. */
export type SecretPayload =
  | { readonly string: Uint8Array | string }
  | { readonly keyValues: Readonly<Record<string, string>> }
  | { readonly generate: { readonly byteLength: number } };

export interface CreateSecretInput {
  readonly path: string;
  readonly kmsKeyIdentity: string;
  readonly payload: SecretPayload;
  readonly description?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly accessPolicy?: AccessPolicy | null;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /**
  Retries after the first attempt for this call, instead of the client's `retry.limit`: a caller
  with its own schedule (a poller) passes 0 and tries again on that schedule.
  */
  readonly retryLimit?: number | undefined;
}

/** A request as the methods hand it to `#call`: the transport's fields plus the call's retry limit. */
type CallRequest = Omit<TransportRequest, 'operation' | 'headers'> & { readonly retryLimit?: number | undefined };

type Idempotency = 'idempotent' | 'not-idempotent';

/** The OIDC access token an attempt sent, so that a 401 invalidates that token and no newer one. */
interface SentCredential {
  oidcToken: string | undefined;
}

const defaultTimeoutMs = 10_000;
const defaultRetry: RetryOptions = { limit: 3, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 };

/**
A client for one Thalassa Secrets Manager scope: an API URL, region, organisation and optional
project, with one credential. It validates paths before sending, retries what may be retried,
waits for its rate limit, and maps every failure to a typed error. It never logs.
*/
export class ThalassaClient {
  readonly region: string;
  readonly #options: ThalassaClientOptions;
  readonly #transport: HttpTransport;
  readonly #retry: RetryOptions;
  readonly #limiter: TokenBucket | undefined;
  readonly #tokens: OidcTokenSource | undefined;
  readonly #random: () => number;

  constructor(options: ThalassaClientOptions) {
    this.#options = options;
    this.region = options.region;
    this.#retry = { ...defaultRetry, ...options.retry };
    this.#random = options.random ?? Math.random;
    this.#transport = new HttpTransport({
      apiURL: options.apiURL ?? defaultApiURL,
      userAgent: options.userAgent ?? `thalassa-secrets-operator/${version}`,
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
      caBundle: options.caBundle,
      insecureSkipTlsVerify: options.insecureSkipTlsVerify,
    });
    this.#limiter = options.rateLimit
      ? new TokenBucket({ ratePerSecond: options.rateLimit.requestsPerSecond, burst: options.rateLimit.burst })
      : undefined;
    const credential = options.credential;
    this.#tokens =
      credential.type === 'clientCredentials' || credential.type === 'tokenExchange'
        ? new OidcTokenSource({
            transport: this.#transport,
            credential,
            organisation: options.organisation,
            timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
            onResponse: options.onResponse,
          })
        : undefined;
  }

  /** One directory level: the direct secrets and the child prefixes under `path` (which ends in `/`). */
  async browse(path: string, options: CallOptions = {}): Promise<BrowseResponse> {
    assertValidPath(path, 'prefix');
    return await this.#call('browse', browseResponseSchema, {
      method: 'GET',
      path: secretsCollectionPath(this.region),
      searchParams: { path },
      signal: options.signal,
      retryLimit: options.retryLimit,
    });
  }

  /** Every secret whose path starts with `pathPrefix`, as metadata without versions. */
  async list(pathPrefix: string, options: CallOptions = {}): Promise<SecretMetadata[]> {
    assertValidPath(pathPrefix, 'prefix');
    return await this.#call('list', secretListSchema, {
      method: 'GET',
      path: secretsCollectionPath(this.region),
      searchParams: { pathPrefix },
      signal: options.signal,
      retryLimit: options.retryLimit,
    });
  }

  async getMetadata(path: string, options: CallOptions & { readonly includeVersions?: boolean } = {}): Promise<SecretMetadata> {
    return await this.#call(
      'get',
      secretMetadataSchema,
      {
        method: 'GET',
        path: secretResourcePath(this.region, path),
        ...(options.includeVersions ? { searchParams: { includeVersions: 'true' } } : {}),
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      path,
    );
  }

  async create(input: CreateSecretInput, options: CallOptions = {}): Promise<SecretMetadata> {
    assertValidPath(input.path);
    return await this.#call(
      'create',
      secretMetadataSchema,
      {
        method: 'POST',
        path: secretsCollectionPath(this.region),
        json: {
          path: input.path,
          kmsKeyIdentity: input.kmsKeyIdentity,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.labels ? { labels: input.labels } : {}),
          ...(input.annotations ? { annotations: input.annotations } : {}),
          ...(input.accessPolicy === undefined ? {} : { accessPolicy: input.accessPolicy }),
          ...payloadFields(input.payload),
        },
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      input.path,
      'not-idempotent',
      payloadSecrets(input.payload),
    );
  }

  /** Sets or (with null) clears the access policy. */
  async setPolicy(path: string, accessPolicy: AccessPolicy | null, options: CallOptions = {}): Promise<SecretMetadata> {
    return await this.#call(
      'setPolicy',
      secretMetadataSchema,
      {
        method: 'PUT',
        path: secretResourcePath(this.region, path, '/policy'),
        json: { accessPolicy },
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      path,
    );
  }

  /** Publishes a new version and returns its number. */
  async addVersion(path: string, payload: SecretPayload, options: CallOptions = {}): Promise<number> {
    const response = await this.#call(
      'addVersion',
      putVersionResponseSchema,
      {
        method: 'POST',
        path: secretResourcePath(this.region, path, '/versions'),
        json: { path, ...payloadFields(payload) },
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      path,
      'not-idempotent',
      payloadSecrets(payload),
    );
    return response.version;
  }

  /** Reveals a version (or the current one). A reveal has no side effect beyond an audit record, so it is retried. */
  async reveal(path: string, options: CallOptions & { readonly version?: number | undefined } = {}): Promise<RevealedSecret> {
    const response = await this.#call(
      'reveal',
      revealResponseSchema,
      {
        method: 'POST',
        path: secretResourcePath(this.region, path, '/value'),
        json: { path, ...(options.version === undefined ? {} : { version: options.version }) },
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      path,
    );
    // The answer names its path and version; one for another path, or another version than the
    // one pinned, would put the wrong value into a Secret (and into the value cache, under the
    // name the server gave). Only a broken server or proxy sends it, and nothing of it is used.
    if (response.path !== path) throw new InvalidResponseError('reveal', `asked for ${path}, the answer is for ${response.path}`);
    if (options.version !== undefined && response.version !== options.version) {
      throw new InvalidResponseError('reveal', `asked for version ${options.version} of ${path}, the answer is version ${response.version}`);
    }
    if (typeof response.secretString === 'string') {
      const bytes = decodeBase64Strict(response.secretString);
      if (!bytes) throw new InvalidResponseError('reveal', `secretString of ${path} is not valid base64`);
      return { path: response.path, version: response.version, value: { format: 'string', bytes } };
    }
    if (response.secretKeyValues) {
      return { path: response.path, version: response.version, value: { format: 'keyValue', values: response.secretKeyValues } };
    }
    throw new InvalidResponseError('reveal', `the response for ${path} carries neither secretString nor secretKeyValues`);
  }

  async destroyVersion(path: string, versionNumber: number, options: CallOptions = {}): Promise<void> {
    await this.#call(
      'destroyVersion',
      undefined,
      {
        method: 'DELETE',
        path: secretResourcePath(this.region, path, '/versions'),
        searchParams: { version: String(versionNumber) },
        signal: options.signal,
        retryLimit: options.retryLimit,
      },
      path,
    );
  }

  async delete(path: string, options: CallOptions = {}): Promise<void> {
    await this.#call(
      'delete',
      undefined,
      { method: 'DELETE', path: secretResourcePath(this.region, path), signal: options.signal, retryLimit: options.retryLimit },
      path,
    );
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #call<S extends z.ZodType>(
    operation: string,
    schema: S,
    request: CallRequest,
    path?: string,
    idempotency?: Idempotency,
    sensitive?: readonly string[],
  ): Promise<z.infer<S>>;
  async #call(
    operation: string,
    schema: undefined,
    request: CallRequest,
    path?: string,
    idempotency?: Idempotency,
    sensitive?: readonly string[],
  ): Promise<undefined>;
  async #call(
    operation: string,
    schema: z.ZodType | undefined,
    request: CallRequest,
    path?: string,
    idempotency: Idempotency = 'idempotent',
    sensitive: readonly string[] = [],
  ): Promise<unknown> {
    let refreshedToken = false;
    const sent: SentCredential = { oidcToken: undefined };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(operation, schema, request, path, sent, sensitive);
      } catch (error) {
        if (request.signal?.aborted) throw error;
        // A 401 from the token endpoint itself means the client credentials or subject token were
        // refused: asking again would only repeat that, so only an API 401 triggers a refresh.
        if (error instanceof UnauthorizedError && error.operation !== 'token' && this.#tokens && !refreshedToken) {
          // The token may have been revoked or expired early: get a new one, once. Only the token
          // this attempt sent is dropped, so callers that got 401 together share one refresh.
          this.#tokens.invalidate(sent.oidcToken);
          refreshedToken = true;
          attempt--;
          continue;
        }
        const limit = request.retryLimit ?? this.#retry.limit;
        const delay = this.#retryDelay(error as ThalassaError, attempt, idempotency, limit);
        if (delay === undefined) throw error;
        this.#options.logger?.debug({ operation, path, attempt, retryInMs: delay, err: error }, 'thalassa request failed, retrying');
        await sleep(delay, undefined, { signal: request.signal });
      }
    }
  }

  /** How long to wait before retrying, or undefined when the error goes to the caller. */
  #retryDelay(error: ThalassaError, attempt: number, idempotency: Idempotency, limit: number): number | undefined {
    const retryAfter = error instanceof RateLimitedError || error instanceof UnavailableError ? error.retryAfterMs : undefined;
    // Every caller of this store waits too: the server asked the client, not this one request. So
    // the hold is set whether or not this call tries again: its last attempt, a poll (which never
    // retries) or a wait too long to sit out must not let the other callers carry on sending.
    if (retryAfter !== undefined) this.#limiter?.holdUntil(Date.now() + retryAfter);
    if (!(error instanceof Error) || !error.retryable || attempt >= limit) return undefined;
    // 429 and 503 mean the server did not act on the request, so even a create may be sent again.
    const refused = error instanceof RateLimitedError || (error instanceof UnavailableError && error.status === 503);
    if (idempotency === 'not-idempotent' && !refused) return undefined;
    const backoff = fullJitterDelay(attempt, { baseMs: this.#retry.baseDelayMs, maxMs: this.#retry.maxDelayMs }, this.#random);
    if (retryAfter === undefined) return backoff;
    if (retryAfter > this.#retry.maxRetryAfterMs) return undefined;
    return Math.max(retryAfter, backoff);
  }

  async #attempt(
    operation: string,
    schema: z.ZodType | undefined,
    request: CallRequest,
    path: string | undefined,
    sent: SentCredential,
    sensitive: readonly string[],
  ): Promise<unknown> {
    // Told to wait longer than a call sits out: fail now, without a request, as the call that was
    // told did; the caller comes back after retryAfterMs instead of holding a worker meanwhile.
    const heldMs = this.#limiter?.heldForMs() ?? 0;
    if (heldMs > this.#retry.maxRetryAfterMs) {
      throw new RateLimitedError({
        operation,
        status: 429,
        serverMessage: `not sent: Thalassa asked to wait ${Math.ceil(heldMs / 1000)} s more (Retry-After)`,
        path,
        retryAfterMs: heldMs,
      });
    }
    await this.#limiter?.take(request.signal);
    const headers: Record<string, string> = {
      authorization: await this.#authorization(request.signal, sent),
      'x-organisation-identity': this.#options.organisation,
      ...(this.#options.project ? { 'x-project-identity': this.#options.project } : {}),
    };
    const started = performance.now();
    let status: number | 'error' = 'error';
    try {
      const { retryLimit: _retryLimit, ...transportRequest } = request;
      const response = await this.#transport.send({ ...transportRequest, operation, headers });
      status = response.status;
      if (response.status < 200 || response.status > 299) {
        const oidcToken = sent.oidcToken === undefined ? [] : [sent.oidcToken];
        throw errorForResponse(operation, response, path, [...this.#credentialSecrets(), ...oidcToken, ...sensitive]);
      }
      if (!schema) return undefined;
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        throw new InvalidResponseError(operation, 'the body is not JSON');
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        // Issue paths name fields; the values stay out of the message.
        const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
        throw new InvalidResponseError(operation, `unexpected shape at ${fields}`);
      }
      return parsed.data;
    } finally {
      const durationMs = performance.now() - started;
      this.#options.onResponse?.(operation, status, durationMs);
      this.#options.logger?.debug({ operation, path, status, durationMs: Math.round(durationMs) }, 'thalassa request');
    }
  }

  /** What of the configured credential must never appear in an error: see scrub.ts. */
  #credentialSecrets(): string[] {
    const credential = this.#options.credential;
    switch (credential.type) {
      case 'personalAccessToken':
      case 'accessToken':
        return [credential.token];
      case 'clientCredentials':
        return [credential.clientSecret];
      case 'tokenExchange':
        return [];
    }
  }

  async #authorization(signal: AbortSignal | undefined, sent: SentCredential): Promise<string> {
    const credential = this.#options.credential;
    switch (credential.type) {
      case 'personalAccessToken':
        return `Token ${credential.token}`;
      case 'accessToken':
        return `Bearer ${credential.token}`;
      case 'clientCredentials':
      case 'tokenExchange': {
        const tokens = this.#tokens;
        if (!tokens) throw new Error('unreachable: OIDC credential without a token source');
        sent.oidcToken = await tokens.token(signal);
        return `Bearer ${sent.oidcToken}`;
      }
    }
  }
}

/** The value as sent (base64 and as text) and each key/value value, to scrub from error messages. */
function payloadSecrets(payload: SecretPayload): string[] {
  if ('string' in payload) return [encodeBase64(payload.string), Buffer.from(payload.string).toString('utf8')];
  if ('keyValues' in payload) return Object.values(payload.keyValues);
  return [];
}

function payloadFields(payload: SecretPayload): Record<string, unknown> {
  if ('string' in payload) return { secretString: encodeBase64(payload.string) };
  if ('keyValues' in payload) return { secretKeyValues: payload.keyValues };
  return { generateSecret: { byteLength: payload.generate.byteLength } };
}
