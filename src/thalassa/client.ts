import ky, { isForceRetryError, type KyRequest, type Options as KyOptions, type StandardSchemaV1, type StandardSchemaV1InferOutput } from 'ky';
import { decodeBase64Strict } from './base64.ts';
import type { ThalassaCredential } from './credentials.ts';
import { thalassaErrorOf, unreadableBody, type RequestContext } from './error-for-response.ts';
import { InvalidResponseError } from './errors/invalid-response-error.ts';
import type { ApiEndpoint } from './errors/thalassa-api-error.ts';
import { RateLimitedError } from './errors/rate-limited-error.ts';
import { HttpTransport } from './http-transport.ts';
import { assertValidPath, secretResourcePath, secretsCollectionPath } from './paths.ts';
import { defaultRetry, holdOnRetryAfter, kyRetryOptions, type RetryOptions } from './retry-policy.ts';
import { OidcTokenSource } from './token-source.ts';
import { browseResponseSchema, revealResponseSchema, secretListSchema, secretMetadataSchema, type BrowseResponse, type SecretMetadata } from './wire.ts';
import { TokenBucket } from '../runtime/token-bucket.ts';
import type { Logger } from '../observability/logger.ts';
import { version } from '../version.ts';

export { type RetryOptions } from './retry-policy.ts';

export const defaultApiURL = 'https://api.thalassa.cloud';

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

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /**
  Retries after the first attempt for this call, instead of the client's `retry.limit`: a caller
  with its own schedule (the poller) passes a small number and tries again on that schedule.
  */
  readonly retryLimit?: number | undefined;
}

/** One API request as a method describes it to `request`. */
export interface ApiRequest extends CallOptions {
  /** For errors, logs and metrics: `reveal`, `list`... */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the API URL, without a leading slash. */
  readonly url: string;
  readonly searchParams?: Record<string, string> | undefined;
  readonly json?: unknown;
  /** The secret path the request is about, if it is about one (`secret{path}` in the URL); named in errors. */
  readonly path?: string | undefined;
  /** Default: `secret` with a `path`, `collection` without. Only a `secret` request's 404 may say the secret is gone. */
  readonly endpoint?: Exclude<ApiEndpoint, 'token'> | undefined;
  /** Default true. False for creates and new versions: re-sent only after 429 or 503. */
  readonly idempotent?: boolean | undefined;
  /** More user-chosen values the request carries (a KMS key): never evidence of an error's kind. */
  readonly requestValues?: readonly string[] | undefined;
  /** Strings the request carries that must never appear in an error (a value it sends). */
  readonly sensitive?: readonly string[] | undefined;
}

const defaultTimeoutMs = 10_000;

/**
A client for one Thalassa Secrets Manager scope: an API URL, region, organisation and optional
project, with one credential. It validates paths before sending and maps every failure to a typed
error. ky sends, retries (429, 5xx, network errors, timeouts; `Retry-After` honoured), times out
each attempt and validates answers with their zod schema; the client's hooks add the per-store
rate limit before every attempt, the whole store's hold on a `Retry-After`, the credential, and a
token refresh after a 401. It never logs a value or a token.

Only what the operator reads is here; the write endpoints (create, new versions, policies,
destroy, delete) are for tests: test/support/thalassa-admin-client.ts.
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
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.#transport = new HttpTransport({
      apiURL: options.apiURL ?? defaultApiURL,
      userAgent: options.userAgent ?? `thalassa-secrets-operator/${version}`,
      timeoutMs,
      caBundle: options.caBundle,
      insecureSkipTlsVerify: options.insecureSkipTlsVerify,
    });
    this.#limiter = options.rateLimit
      ? new TokenBucket({ ratePerSecond: options.rateLimit.requestsPerSecond, burst: options.rateLimit.burst })
      : undefined;
    const credential = options.credential;
    const limiter = this.#limiter;
    this.#tokens =
      credential.type === 'clientCredentials' || credential.type === 'tokenExchange'
        ? new OidcTokenSource({
            transport: this.#transport,
            credential,
            organisation: options.organisation,
            timeoutMs,
            retry: this.#retry,
            random: this.#random,
            limiter,
            onResponse: options.onResponse,
          })
        : undefined;
  }

  /** One directory level: the direct secrets and the child prefixes under `path` (which ends in `/`). */
  async browse(path: string, options: CallOptions = {}): Promise<BrowseResponse> {
    assertValidPath(path, 'prefix');
    return await this.request({ ...options, operation: 'browse', method: 'GET', url: secretsCollectionPath(this.region), searchParams: { path } }, browseResponseSchema);
  }

  /** Every secret whose path starts with `pathPrefix`, as metadata without versions. */
  async list(pathPrefix: string, options: CallOptions = {}): Promise<SecretMetadata[]> {
    assertValidPath(pathPrefix, 'prefix');
    return await this.request(
      { ...options, operation: 'list', method: 'GET', url: secretsCollectionPath(this.region), searchParams: { pathPrefix } },
      secretListSchema,
    );
  }

  async getMetadata(path: string, options: CallOptions & { readonly includeVersions?: boolean } = {}): Promise<SecretMetadata> {
    return await this.request(
      {
        signal: options.signal,
        retryLimit: options.retryLimit,
        operation: 'get',
        method: 'GET',
        url: secretResourcePath(this.region, path),
        ...(options.includeVersions ? { searchParams: { includeVersions: 'true' } } : {}),
        path,
      },
      secretMetadataSchema,
    );
  }

  /** Reveals a version (or the current one). A reveal has no side effect beyond an audit record, so it is retried. */
  async reveal(path: string, options: CallOptions & { readonly version?: number | undefined } = {}): Promise<RevealedSecret> {
    const response = await this.request(
      {
        signal: options.signal,
        retryLimit: options.retryLimit,
        operation: 'reveal',
        method: 'POST',
        url: secretResourcePath(this.region, path, '/value'),
        json: { path, ...(options.version === undefined ? {} : { version: options.version }) },
        path,
      },
      revealResponseSchema,
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

  async close(): Promise<void> {
    await this.#transport.close();
  }

  /**
  Sends one API request through ky and returns its answer, validated by `schema` (none: the body is
  ignored). For the methods above and for test support's write methods; every failure is a
  `ThalassaError` (or the caller's abort).
  */
  protected async request<S extends StandardSchemaV1>(request: ApiRequest, schema: S): Promise<StandardSchemaV1InferOutput<S>>;
  protected async request(request: ApiRequest, schema?: undefined): Promise<undefined>;
  protected async request(request: ApiRequest, schema?: StandardSchemaV1): Promise<unknown> {
    const { operation, path, signal } = request;
    const context: RequestContext = {
      operation,
      path,
      endpoint: request.endpoint ?? (path === undefined ? 'collection' : 'secret'),
      requestValues: [this.region, this.#options.organisation, ...(this.#options.project ? [this.#options.project] : []), ...(path === undefined ? [] : [path]), ...Object.values(request.searchParams ?? {}), ...(request.requestValues ?? [])],
      sensitive: [...this.#credentialSecrets(), ...(request.sensitive ?? [])],
    };
    /** The OIDC access token the last attempt sent, so that a 401 invalidates that token and no newer one. */
    let sentToken: string | undefined;
    let refreshes = 0;
    const sensitiveNow = (): RequestContext => ({ ...context, sensitive: sentToken === undefined ? context.sensitive : [...context.sensitive, sentToken] });

    const beforeAttempt = async (kyRequest: KyRequest): Promise<void> => {
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
      await this.#limiter?.take(signal);
      const authorization = await this.#authorization(signal);
      sentToken = authorization.oidcToken;
      kyRequest.headers.set('authorization', authorization.header);
    };

    const options: KyOptions = {
      method: request.method,
      ...(request.searchParams ? { searchParams: request.searchParams } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      ...(signal ? { signal } : {}),
      headers: {
        'x-organisation-identity': this.#options.organisation,
        ...(this.#options.project ? { 'x-project-identity': this.#options.project } : {}),
      },
      fetch: this.#transport.fetch((status, durationMs) => {
        this.#options.onResponse?.(operation, status, durationMs);
        this.#options.logger?.debug({ operation, path, status, durationMs: Math.round(durationMs) }, 'thalassa request');
      }),
      retry: kyRetryOptions(
        this.#retry,
        {
          limit: request.retryLimit ?? this.#retry.limit,
          idempotent: request.idempotent ?? true,
          // The retry after a token refresh does not count against the limit.
          uncounted: this.#tokens ? { max: 1, used: () => refreshes } : undefined,
        },
        this.#random,
      ),
      hooks: {
        beforeRequest: [async ({ request: kyRequest }) => { await beforeAttempt(kyRequest); }],
        beforeRetry: [
          async ({ request: kyRequest, error, retryCount }) => {
            if (isForceRetryError(error)) this.#options.logger?.debug({ operation, path, attempt: retryCount }, 'thalassa answered 401, retrying with a new token');
            else this.#options.logger?.debug({ operation, path, attempt: retryCount, err: thalassaErrorOf(error, sensitiveNow(), signal) }, 'thalassa request failed, retrying');
            await beforeAttempt(kyRequest);
          },
        ],
        afterResponse: [
          holdOnRetryAfter(this.#limiter),
          ({ response }) => {
            // The token may have been revoked or expired early: get a new one, once. Only the token
            // this attempt sent is dropped, so callers that got 401 together share one refresh.
            if (response.status === 401 && this.#tokens && refreshes === 0) {
              refreshes++;
              this.#tokens.invalidate(sentToken);
              return ky.retry({ delay: 0, code: 'TOKEN_REFRESH' });
            }
            return undefined;
          },
        ],
        beforeError: [({ error }) => thalassaErrorOf(error, sensitiveNow(), signal) as Error],
      },
    };
    const response = this.#transport.ky(request.url, options);
    try {
      await response;
    } catch (error) {
      throw thalassaErrorOf(error, sensitiveNow(), signal);
    }
    if (schema === undefined) return undefined;
    try {
      return await response.json(schema);
    } catch (error) {
      throw unreadableBody(error, sensitiveNow(), signal);
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

  async #authorization(signal: AbortSignal | undefined): Promise<{ header: string; oidcToken?: string }> {
    const credential = this.#options.credential;
    switch (credential.type) {
      case 'personalAccessToken':
        return { header: `Token ${credential.token}` };
      case 'accessToken':
        return { header: `Bearer ${credential.token}` };
      case 'clientCredentials':
      case 'tokenExchange': {
        const tokens = this.#tokens;
        if (!tokens) throw new Error('unreachable: OIDC credential without a token source');
        const oidcToken = await tokens.token(signal);
        return { header: `Bearer ${oidcToken}`, oidcToken };
      }
    }
  }
}
