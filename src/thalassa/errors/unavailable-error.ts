import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

/** 5xx: KMS is unavailable in the region (503), or the service is down or failing. */
export class UnavailableError extends ThalassaApiError {
  override name = 'UnavailableError';
  override get retryable(): boolean {
    return true;
  }
  readonly retryAfterMs: number | undefined;

  constructor(details: ApiErrorDetails & { readonly retryAfterMs?: number | undefined }, options?: ErrorOptions) {
    super(details, options);
    this.retryAfterMs = details.retryAfterMs;
  }
}
