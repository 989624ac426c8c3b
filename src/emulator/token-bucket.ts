/** Token buckets keyed by organisation, refilled continuously on a monotonic clock. */
export interface BucketDecision {
  readonly allowed: boolean;
  /** When refused: whole seconds until one token is available again (at least 1). */
  readonly retryAfterSeconds: number;
}

export class TokenBuckets {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(requestsPerSecond: number, burst: number, clock: () => number) {
    this.#ratePerMs = requestsPerSecond / 1000;
    this.#burst = burst;
    this.#clock = clock;
  }

  take(key: string): BucketDecision {
    const now = this.#clock();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, updatedAt: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.updatedAt) * this.#ratePerMs);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const waitMs = (1 - bucket.tokens) / this.#ratePerMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
