/** Retry timing shared by the Thalassa client, the Kubernetes client, the informers, the work queue and the poller. */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
Exponential backoff with full jitter: a uniform draw from [0, min(max, base * 2^attempt)). Full
jitter spreads retries of many clients that failed together (AWS "Exponential Backoff And Jitter").
*/
export function fullJitterDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
