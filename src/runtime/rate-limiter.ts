import { fullJitterDelay } from './backoff.ts';
import { TokenBucket } from './token-bucket.ts';

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
  readonly #random: () => number;
  /** The overall limit; undefined when disabled. */
  readonly #bucket: TokenBucket | undefined;

  constructor(options: RateLimiterOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#bucket =
      options.overallPerSecond > 0
        ? new TokenBucket({ ratePerSecond: options.overallPerSecond, burst: options.overallBurst, ...(options.now ? { now: options.now } : {}) })
        : undefined;
  }

  /** How long `key` waits before its next try; counts one more failure. */
  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const ceiling = Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** failures);
    const perKey = ceiling / 2 + fullJitterDelay(0, { baseMs: ceiling / 2, maxMs: ceiling / 2 }, this.#random);
    // The bucket's token is taken, possibly from the future: its delay is when it becomes available.
    return Math.max(perKey, this.#bucket?.reserve() ?? 0);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}
