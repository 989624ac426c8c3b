import { setTimeout as sleep } from 'node:timers/promises';

export interface TokenBucketOptions {
  /** Sustained requests per second. */
  readonly ratePerSecond: number;
  /** Requests allowed at once after a quiet period. */
  readonly burst: number;
  readonly now?: () => number;
}

/**
A token bucket that callers wait on before each request to one store. `holdUntil` stops every
caller until a time the server asked for (429 Retry-After), so a rate-limited store is slowed down
as a whole instead of each request retrying on its own.
*/
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;
  #heldUntil = 0;
  /** Waiters are served in arrival order so that a steady stream cannot starve an early caller. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    if (!(options.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${options.burst}`);
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.burst;
    this.#updatedAt = this.#now();
  }

  /** Resolves when the caller may send one request. */
  async take(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(async () => await this.#waitForToken(signal));
    // A caller that gives up (abort) must not break the chain for the ones behind it.
    this.#queue = turn.catch(() => undefined);
    await turn;
  }

  holdUntil(epochMs: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, epochMs);
  }

  /** How much longer every caller is held by `holdUntil`; 0 when not held. */
  heldForMs(): number {
    return Math.max(0, this.#heldUntil - this.#now());
  }

  async #waitForToken(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#now();
      if (now < this.#heldUntil) {
        await sleep(this.#heldUntil - now, undefined, { signal });
        continue;
      }
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
      this.#updatedAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await sleep(Math.ceil((1 - this.#tokens) / this.#ratePerMs), undefined, { signal });
    }
  }
}
