import { isHTTPError, type RetryOptions as KyRetryOptions } from 'ky';
import { fullJitterDelay, parseRetryAfter } from '../runtime/backoff.ts';
import type { TokenBucket } from '../runtime/token-bucket.ts';

export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly limit: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited out in the call: the error goes to the caller. */
  readonly maxRetryAfterMs: number;
}

export const defaultRetry: RetryOptions = { limit: 3, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 };

/** 429 and every 5xx: the same request may succeed later. ky waits out their `Retry-After`. */
export const retryableStatuses: readonly number[] = [429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/** 429 and 503 mean the server did not act on the request, so even a create may be sent again. */
const refusedStatuses = new Set([429, 503]);

export interface CallRetry {
  /** Retries after the first attempt for this call. */
  readonly limit: number;
  /** False for creates and new versions: after a dropped connection or a timeout the server may have acted. */
  readonly idempotent: boolean;
  /**
  Retries this call may add beyond `limit` without counting them (the one retry after a token
  refresh), and how many it has used so far.
  */
  readonly uncounted?: { readonly max: number; readonly used: () => number } | undefined;
}

/**
ky's retry options for one call: ky retries 429, 5xx, network errors and timeouts of every method,
with full jitter from `fullJitterDelay` (src/runtime/backoff.ts) between attempts and the server's
`Retry-After` instead when it sent one. `shouldRetry` adds what ky's options cannot say: a
`Retry-After` beyond `maxRetryAfterMs` goes to the caller at once (ky would wait `maxRetryAfter`
and retry), and a call that is not idempotent is re-sent only after 429 or 503.
*/
export function kyRetryOptions(settings: RetryOptions, call: CallRetry, random: () => number): KyRetryOptions {
  const extra = call.uncounted?.max ?? 0;
  return {
    limit: call.limit + extra,
    methods: ['get', 'post', 'put', 'delete'],
    statusCodes: [...retryableStatuses],
    afterStatusCodes: [...retryableStatuses],
    maxRetryAfter: settings.maxRetryAfterMs,
    backoffLimit: settings.maxDelayMs,
    // ky passes the retry number from 1; full jitter already, so no `jitter` on top.
    delay: (retry) => fullJitterDelay(retry - 1, { baseMs: settings.baseDelayMs, maxMs: settings.maxDelayMs }, random),
    retryOnTimeout: true,
    shouldRetry: ({ error, retryCount }) => {
      if (retryCount - (call.uncounted?.used() ?? 0) > call.limit) return false;
      if (isHTTPError(error)) {
        const retryAfter = parseRetryAfter(error.response.headers.get('retry-after'));
        if (retryAfter !== undefined && retryAfter > settings.maxRetryAfterMs) return false;
        if (!call.idempotent && !refusedStatuses.has(error.response.status)) return false;
        return undefined;
      }
      // No answer (a network error or a timeout): the server may have acted on it.
      return call.idempotent ? undefined : false;
    },
  };
}

/**
An `afterResponse` hook: a 429 or 5xx with a `Retry-After` holds the whole store's rate limit
until then. Every caller of the store waits too: the server asked the client, not this one
request. So the hold is set whether or not this call tries again: its last attempt, a poll or a
wait too long to sit out must not let the other callers carry on sending.
*/
export function holdOnRetryAfter(limiter: TokenBucket | undefined): (state: { readonly response: Response }) => void {
  return ({ response }) => {
    if (!limiter || (response.status !== 429 && response.status < 500)) return;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfterMs !== undefined) limiter.holdUntil(Date.now() + retryAfterMs);
  };
}
