import type { ThalassaCredential } from './credentials.ts';
import { thalassaErrorOf, unreadableBody, type RequestContext } from './error-for-response.ts';
import { InvalidResponseError } from './errors/invalid-response-error.ts';
import type { HttpTransport } from './http-transport.ts';
import { holdOnRetryAfter, kyRetryOptions, type RetryOptions } from './retry-policy.ts';
import { oidcTokenResponseSchema } from './wire.ts';
import type { TokenBucket } from '../runtime/token-bucket.ts';

type OidcCredential = Extract<ThalassaCredential, { type: 'clientCredentials' | 'tokenExchange' }>;

export interface OidcTokenSourceOptions {
  readonly transport: HttpTransport;
  readonly credential: OidcCredential;
  readonly organisation: string;
  /** Bounds the subject token function, which is not tied to any one caller's signal. */
  readonly timeoutMs: number;
  /**
  The client's retries. The token request is shared by every caller that needs a token meanwhile,
  so it retries on the client's schedule, not on one caller's `retryLimit`.
  */
  readonly retry: RetryOptions;
  readonly random?: () => number;
  /** The store's rate limit: taken before each retry (the first attempt rides on the API call's), held on a `Retry-After`. */
  readonly limiter?: TokenBucket | undefined;
  readonly now?: () => number;
  readonly onResponse?: ((operation: string, status: number | 'error', durationMs: number) => void) | undefined;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAt: number;
}

/** Without `expires_in` the official client assumes one hour. */
const defaultLifetimeSeconds = 3600;

/**
Access tokens from `{apiURL}/oidc/token`, cached and renewed before they expire. Concurrent callers
share one in-flight request, so a burst of reconciles costs one token request, not one each.
*/
export class OidcTokenSource {
  readonly #options: OidcTokenSourceOptions;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #inFlight: Promise<CachedToken> | undefined;

  constructor(options: OidcTokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async token(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return cached.value;
    // The request is shared by every caller that arrives while it runs, so it is not tied to the
    // first caller's signal (the transport's timeout bounds it): one caller giving up must not fail
    // the others. Each caller stops waiting on its own signal.
    this.#inFlight ??= this.#startFetch();
    const fresh = signal ? await untilAborted(this.#inFlight, signal) : await this.#inFlight;
    return fresh.value;
  }

  /**
  Drops the cached token after the API answered 401 to it. Given the token that was refused, keeps
  a newer one: another caller that got 401 for the same old token may already have replaced it.
  */
  invalidate(refused?: string): void {
    if (refused === undefined || this.#cached?.value === refused) this.#cached = undefined;
  }

  #startFetch(): Promise<CachedToken> {
    const shared = this.#fetchToken()
      .then((fresh) => {
        this.#cached = fresh;
        return fresh;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    // Every caller may have given up already; a failure nobody awaits must not become an
    // unhandled rejection. Callers still waiting get it through their own await.
    void shared.catch(() => undefined);
    return shared;
  }

  async #fetchToken(): Promise<CachedToken> {
    const { credential, transport, organisation } = this.#options;
    const form: Record<string, string> =
      credential.type === 'clientCredentials'
        ? {
            grant_type: 'client_credentials',
            client_id: credential.clientId,
            client_secret: credential.clientSecret,
            ...(credential.scopes?.length ? { scope: credential.scopes.join(' ') } : {}),
          }
        : {
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: await credential.subjectToken(AbortSignal.timeout(this.#options.timeoutMs)),
            subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
            organisation_id: organisation,
            service_account_id: credential.serviceAccountId,
            ...(credential.accessTokenLifetimeSeconds === undefined
              ? {}
              : { access_token_lifetime: String(credential.accessTokenLifetimeSeconds) }),
          };
    const sensitive = [form['client_secret'], form['subject_token']].filter((v): v is string => v !== undefined);
    const context: RequestContext = { operation: 'token', endpoint: 'token', requestValues: [organisation], sensitive };
    const { limiter, onResponse } = this.#options;
    const response = transport.ky('oidc/token', {
      method: 'POST',
      body: new URLSearchParams(form),
      fetch: transport.fetch((status, durationMs) => onResponse?.('token', status, durationMs)),
      // A token request has no effect but a token, so every failure that may pass is retried.
      retry: kyRetryOptions(this.#options.retry, { limit: this.#options.retry.limit, idempotent: true }, this.#options.random ?? Math.random),
      hooks: {
        beforeRetry: [async () => { await limiter?.take(); }],
        afterResponse: [holdOnRetryAfter(limiter)],
        beforeError: [({ error }) => thalassaErrorOf(error, context, undefined) as Error],
      },
    });
    try {
      await response;
    } catch (error) {
      throw thalassaErrorOf(error, context, undefined);
    }
    let parsed;
    try {
      parsed = await response.json(oidcTokenResponseSchema);
    } catch (error) {
      const typed = unreadableBody(error, context, undefined);
      throw typed instanceof InvalidResponseError ? new InvalidResponseError('token', 'no access_token in the token response') : typed;
    }
    const lifetimeMs = (parsed.expires_in ?? defaultLifetimeSeconds) * 1000;
    // Renew when 80% of the lifetime has passed, and at least 10 s early: the token stays valid
    // for requests already on their way.
    const margin = Math.max(Math.min(lifetimeMs * 0.2, 300_000), Math.min(10_000, lifetimeMs / 2));
    return { value: parsed.access_token, refreshAt: this.#now() + lifetimeMs - margin };
  }
}

/** Resolves or rejects with `promise`, or rejects with the signal's reason as soon as it aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => {
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
