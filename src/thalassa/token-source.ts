import type { ThalassaCredential } from './credentials.ts';
import { errorForResponse } from './error-for-response.ts';
import { InvalidResponseError } from './errors/invalid-response-error.ts';
import type { HttpTransport } from './http-transport.ts';
import { oidcTokenResponseSchema } from './wire.ts';

type OidcCredential = Extract<ThalassaCredential, { type: 'clientCredentials' | 'tokenExchange' }>;

export interface OidcTokenSourceOptions {
  readonly transport: HttpTransport;
  readonly credential: OidcCredential;
  readonly organisation: string;
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
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return cached.value;
    this.#inFlight ??= this.#fetchToken(signal).finally(() => {
      this.#inFlight = undefined;
    });
    this.#cached = await this.#inFlight;
    return this.#cached.value;
  }

  /** Drops the cached token, e.g. after the API answered 401 to it. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetchToken(signal: AbortSignal | undefined): Promise<CachedToken> {
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
            subject_token: await credential.subjectToken(signal),
            subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
            organisation_id: organisation,
            service_account_id: credential.serviceAccountId,
            ...(credential.accessTokenLifetimeSeconds === undefined
              ? {}
              : { access_token_lifetime: String(credential.accessTokenLifetimeSeconds) }),
          };
    const started = performance.now();
    let status: number | 'error' = 'error';
    try {
      const response = await transport.send({ operation: 'token', method: 'POST', path: 'oidc/token', form, signal });
      status = response.status;
      if (response.status < 200 || response.status > 299) throw errorForResponse('token', response, undefined);
      const parsed = oidcTokenResponseSchema.safeParse(safeJson(response.body));
      if (!parsed.success) throw new InvalidResponseError('token', 'no access_token in the token response');
      const lifetimeMs = (parsed.data.expires_in ?? defaultLifetimeSeconds) * 1000;
      // Renew when 80% of the lifetime has passed, and at least 10 s early: the token stays valid
      // for requests already on their way.
      const margin = Math.max(Math.min(lifetimeMs * 0.2, 300_000), Math.min(10_000, lifetimeMs / 2));
      return { value: parsed.data.access_token, refreshAt: this.#now() + lifetimeMs - margin };
    } finally {
      this.#options.onResponse?.('token', status, performance.now() - started);
    }
  }
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
