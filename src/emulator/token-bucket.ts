/** Token buckets keyed by organisation, refilled continuously on a monotonic clock. */
import { TokenBucket } from '../runtime/token-bucket.ts';

export interface BucketDecision {
  readonly allowed: boolean;
  /** When refused: whole seconds until one token is available again (at least 1). */
  readonly retryAfterSeconds: number;
}

/** One `TokenBucket` (src/runtime/token-bucket.ts) per key, created full on first use. */
export class TokenBuckets {
  readonly #requestsPerSecond: number;
  readonly #burst: number;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(requestsPerSecond: number, burst: number, clock: () => number) {
    this.#requestsPerSecond = requestsPerSecond;
    this.#burst = burst;
    this.#clock = clock;
  }

  take(key: string): BucketDecision {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ ratePerSecond: this.#requestsPerSecond, burst: this.#burst, now: this.#clock });
      this.#buckets.set(key, bucket);
    }
    const waitMs = bucket.tryTake();
    return waitMs === 0 ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
