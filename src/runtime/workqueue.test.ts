import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './workqueue.ts';

function queue(): WorkQueue {
  return new WorkQueue({
    rateLimiter: new RateLimiter({ baseDelayMs: 1000, maxDelayMs: 300_000, overallPerSecond: 0, overallBurst: 1, random: () => 0.5 }),
  });
}

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out a key added many times once', async () => {
    const q = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never gives a key to two workers, and processes it again when added while in progress', async () => {
    const q = queue();
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    let second: string | undefined = 'none';
    void q.get().then((k) => (second = k));
    await vi.advanceTimersByTimeAsync(0);
    expect(second).toBe('none');
    q.done('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(second).toBe('a');
  });

  it('serves the high lane before the low lane, and upgrades a waiting key', async () => {
    const q = queue();
    q.add('refresh-1', 'low');
    q.add('refresh-2', 'low');
    q.add('new', 'high');
    q.add('refresh-2', 'high');
    expect(await q.get()).toBe('new');
    expect(await q.get()).toBe('refresh-2');
    expect(await q.get()).toBe('refresh-1');
    expect(q.length).toBe(0);
  });

  it('adds delayed keys when their time comes, keeping the earlier of two delays', async () => {
    const q = queue();
    q.addAfter('a', 5000);
    q.addAfter('a', 1000);
    q.addAfter('b', 3000);
    await vi.advanceTimersByTimeAsync(999);
    expect(q.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await q.get()).toBe('a');
    await vi.advanceTimersByTimeAsync(2000);
    expect(await q.get()).toBe('b');
    q.done('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(q.length).toBe(0);
  });

  it('backs a failing key off exponentially up to the cap, and forgets on success', () => {
    const limiter = new RateLimiter({ baseDelayMs: 1000, maxDelayMs: 300_000, overallPerSecond: 0, overallBurst: 1, random: () => 0.999999 });
    const delays = Array.from({ length: 12 }, () => limiter.when('k'));
    expect(delays.slice(0, 4).map((d) => Math.round(d / 100) * 100)).toEqual([1000, 2000, 4000, 8000]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(300_000);
    expect(delays.at(-1)).toBeGreaterThan(299_000);
    limiter.forget('k');
    expect(limiter.numRequeues('k')).toBe(0);
    expect(Math.round(limiter.when('k'))).toBeLessThanOrEqual(1000);
  });

  it('caps the overall retry rate with a token bucket', () => {
    const limiter = new RateLimiter({ baseDelayMs: 1, maxDelayMs: 10, overallPerSecond: 10, overallBurst: 2, now: () => 0, random: () => 0 });
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c'), limiter.when('d')]).toEqual([0.5, 0.5, 100, 200]);
  });

  it('wakes waiting workers with undefined on shutdown and ignores later adds', async () => {
    const q = queue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    expect(await q.get()).toBeUndefined();
  });

  it('cancels a delayed add', async () => {
    const q = queue();
    q.addAfter('a', 1000);
    q.cancelDelayed('a');
    await vi.advanceTimersByTimeAsync(2000);
    expect(q.length).toBe(0);
  });
});
