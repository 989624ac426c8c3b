import { fullJitterDelay } from '../thalassa/backoff.ts';

export interface RateLimiterOptions {
  /** First retry delay of a failing key. */
  readonly baseDelayMs: number;
  /** The longest a failing key waits. */
  readonly maxDelayMs: number;
  /** Retries admitted per second across all keys (client-go's bucket limiter); 0 disables it. */
  readonly overallPerSecond: number;
  readonly overallBurst: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
client-go's default controller rate limiter in one: the larger of a per-key exponential backoff
(here with half jitter, so keys that failed together do not come back together) and an overall
token bucket that caps the retry rate of the whole queue.
*/
export class RateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #failures = new Map<string, number>();
  readonly #now: () => number;
  readonly #random: () => number;
  #bucketTokens: number;
  #bucketUpdatedAt: number;

  constructor(options: RateLimiterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#bucketTokens = options.overallBurst;
    this.#bucketUpdatedAt = this.#now();
  }

  /** How long `key` waits before its next try; counts one more failure. */
  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const ceiling = Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** failures);
    const perKey = ceiling / 2 + fullJitterDelay(0, { baseMs: ceiling / 2, maxMs: ceiling / 2 }, this.#random);
    return Math.max(perKey, this.#reserveBucket());
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Takes a token, possibly from the future: the returned delay is when it becomes available. */
  #reserveBucket(): number {
    const { overallPerSecond, overallBurst } = this.#options;
    if (overallPerSecond <= 0) return 0;
    const now = this.#now();
    this.#bucketTokens = Math.min(overallBurst, this.#bucketTokens + ((now - this.#bucketUpdatedAt) * overallPerSecond) / 1000);
    this.#bucketUpdatedAt = now;
    this.#bucketTokens -= 1;
    return this.#bucketTokens >= 0 ? 0 : Math.ceil((-this.#bucketTokens * 1000) / overallPerSecond);
  }
}
