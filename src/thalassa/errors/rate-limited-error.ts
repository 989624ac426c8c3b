import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

/** 429. `retryAfterMs` is the server's `Retry-After`, when it sent one. */
export class RateLimitedError extends ThalassaApiError {
  override name = 'RateLimitedError';
  override get retryable(): boolean {
    return true;
  }
  readonly retryAfterMs: number | undefined;

  constructor(details: ApiErrorDetails & { readonly retryAfterMs: number | undefined }, options?: ErrorOptions) {
    super(details, options);
    this.retryAfterMs = details.retryAfterMs;
  }
}
