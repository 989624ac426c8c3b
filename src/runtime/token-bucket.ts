import { setTimeout as sleep } from 'node:timers/promises';

export interface TokenBucketOptions {
  /** Sustained tokens per second. */
  readonly ratePerSecond: number;
  /** Tokens available at once after a quiet period; the bucket starts full. */
  readonly burst: number;
  /** Clock in ms (epoch or monotonic, as long as `holdUntil` uses the same one). Default `Date.now`. */
  readonly now?: () => number;
}

/**
The one token bucket: refilled continuously at `ratePerSecond` up to `burst`. Three ways to take a
token, for its three users:

- `take()` waits, in arrival order, for a token (the Thalassa client before every attempt);
  `holdUntil` stops every waiter until a time a server asked for (429 `Retry-After`).
- `reserve()` takes a token at once, possibly from the future, and says when it is due (the work
  queue's overall retry limit, client-go's `BucketRateLimiter`).
- `tryTake()` takes a token only when there is one, and otherwise says how long until there is
  (the emulator's per-organisation rate limit, which answers 429 instead of waiting).
*/
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;
  #heldUntil = Number.NEGATIVE_INFINITY;
  /** Waiters of `take` are served in arrival order so that a steady stream cannot starve an early caller. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    if (!(options.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${options.burst}`);
    this.#ratePerSecond = options.ratePerSecond;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.burst;
    this.#updatedAt = this.#now();
  }

  /** Takes a token when one is available and returns 0; otherwise takes none and returns the ms until one is. */
  tryTake(): number {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return ((1 - this.#tokens) * 1000) / this.#ratePerSecond;
  }

  /** Takes a token now, borrowing from the future when the bucket is empty: returns the ms until it is due (0: now). */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#ratePerSecond);
  }

  /** Resolves when the caller may go ahead with one token; rejects when `signal` aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(async () => await this.#waitForToken(signal));
    // A caller that gives up (abort) must not break the chain for the ones behind it.
    this.#queue = turn.catch(() => undefined);
    await turn;
  }

  /** Holds every `take` until `at` (same clock as `now`); an earlier time than a hold already set changes nothing. */
  holdUntil(at: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, at);
  }

  /** How much longer `take` is held by `holdUntil`; 0 when not held. */
  heldForMs(): number {
    return Math.max(0, this.#heldUntil - this.#now());
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) * this.#ratePerSecond) / 1000);
    this.#updatedAt = now;
  }

  async #waitForToken(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const held = this.heldForMs();
      if (held > 0) {
        await sleep(held, undefined, { signal });
        continue;
      }
      const waitMs = this.tryTake();
      if (waitMs === 0) return;
      await sleep(Math.ceil(waitMs), undefined, { signal });
    }
  }
}
