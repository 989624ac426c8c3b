import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('TokenBucket', () => {
  it('refuses a rate or burst that cannot work', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });

  it('tryTake: the burst at once, then one token per 1/rate, saying how long until the next', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, now: c.now });
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([0, 0]);
    expect(bucket.tryTake()).toBeCloseTo(100);
    c.advance(50);
    expect(bucket.tryTake()).toBeCloseTo(50);
    c.advance(50);
    expect(bucket.tryTake()).toBe(0);
    c.advance(10_000);
    // Refilled up to the burst, not beyond.
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake() > 0]).toEqual([0, 0, true]);
  });

  it('reserve: takes from the future and says when each token is due', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, now: c.now });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 100, 200]);
    c.advance(200);
    expect(bucket.reserve()).toBe(100);
  });

  it('take: resolves at once with tokens, and waits for holdUntil', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1000, burst: 5 });
    await bucket.take();
    expect(bucket.heldForMs()).toBe(0);
    bucket.holdUntil(Date.now() + 60_000);
    bucket.holdUntil(Date.now() + 1_000);
    expect(bucket.heldForMs()).toBeGreaterThan(59_000);
    const stop = new AbortController();
    const waiting = bucket.take(stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow();
  });
});
