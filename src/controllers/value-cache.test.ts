import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RevealedSecret } from '../thalassa/client.ts';
import { ValueCache } from './value-cache.ts';

function secret(path: string, version: number, value = `v${version}`): RevealedSecret {
  return { path, version, value: { format: 'string', bytes: Buffer.from(value) } };
}

/** A reveal that answers when told to, counting its calls. */
function controlledReveal(answer: RevealedSecret) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    get calls() {
      return calls;
    },
    release,
    reveal: async () => {
      calls++;
      await gate;
      return answer;
    },
  };
}

describe('ValueCache.reveal', () => {
  it('makes 500 concurrent reveals of the current version one request, and caches its answer', async () => {
    const cache = new ValueCache(1024 * 1024);
    const upstream = controlledReveal(secret('/shared/db', 3));
    const all = Promise.all(Array.from({ length: 500 }, async () => await cache.reveal('store', '/shared/db', undefined, upstream.reveal)));
    upstream.release();
    const answers = await all;
    expect(upstream.calls).toBe(1);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([3]));
    expect(cache.get('store', '/shared/db', 3)?.version).toBe(3);
    await nextTurn();
    expect(cache.inFlight).toBe(0);
  });

  it('serves a version from the cache without calling reveal', async () => {
    const cache = new ValueCache(1024 * 1024);
    cache.set('store', secret('/a', 2));
    const upstream = controlledReveal(secret('/a', 2));
    await expect(cache.reveal('store', '/a', 2, upstream.reveal)).resolves.toMatchObject({ version: 2 });
    expect(upstream.calls).toBe(0);
  });

  it('lets a pinned version wait for a reveal of the current version that brings it', async () => {
    const cache = new ValueCache(1024 * 1024);
    const current = controlledReveal(secret('/a', 5));
    const pinned = controlledReveal(secret('/a', 5));
    const first = cache.reveal('store', '/a', undefined, current.reveal);
    const second = cache.reveal('store', '/a', 5, pinned.reveal);
    current.release();
    await Promise.all([first, second]);
    expect(current.calls + pinned.calls).toBe(1);
  });

  it('reveals a pinned version itself when the current version is another one', async () => {
    const cache = new ValueCache(1024 * 1024);
    const current = controlledReveal(secret('/a', 5));
    const pinned = controlledReveal(secret('/a', 4));
    const first = cache.reveal('store', '/a', undefined, current.reveal);
    const second = cache.reveal('store', '/a', 4, pinned.reveal);
    current.release();
    pinned.release();
    expect((await second).version).toBe(4);
    expect((await first).version).toBe(5);
    expect(pinned.calls).toBe(1);
  });

  it('keeps stores and paths apart', async () => {
    const cache = new ValueCache(1024 * 1024);
    const a = controlledReveal(secret('/a', 1));
    const b = controlledReveal(secret('/a', 1));
    const c = controlledReveal(secret('/b', 1));
    const all = Promise.all([cache.reveal('one', '/a', undefined, a.reveal), cache.reveal('two', '/a', undefined, b.reveal), cache.reveal('one', '/b', undefined, c.reveal)]);
    a.release();
    b.release();
    c.release();
    await all;
    expect([a.calls, b.calls, c.calls]).toEqual([1, 1, 1]);
  });

  it('gives every waiting caller the error, and asks again after it', async () => {
    const cache = new ValueCache(1024 * 1024);
    let calls = 0;
    const failing = async (): Promise<RevealedSecret> => {
      calls++;
      await nextTurn();
      throw new Error('unavailable');
    };
    const results = await Promise.allSettled([cache.reveal('s', '/a', undefined, failing), cache.reveal('s', '/a', undefined, failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    await nextTurn();
    await expect(cache.reveal('s', '/a', undefined, async () => await Promise.resolve(secret('/a', 1)))).resolves.toMatchObject({ version: 1 });
  });

  it('lets a caller that comes in the same turn as the answer join it rather than reveal again', async () => {
    const cache = new ValueCache(1024 * 1024);
    let calls = 0;
    const reveal = async () => {
      calls++;
      return await Promise.resolve(secret('/a', 7));
    };
    const first = await cache.reveal('s', '/a', undefined, reveal);
    // Still the same turn of the event loop: the finished reveal is shared.
    const second = await cache.reveal('s', '/a', undefined, reveal);
    expect([first.version, second.version, calls]).toEqual([7, 7, 1]);
    await nextTurn();
    await cache.reveal('s', '/a', undefined, reveal);
    expect(calls).toBe(2);
  });
});

describe('ValueCache retention', () => {
  /** A cache on a clock the test moves. */
  function clocked(retentionMs: number) {
    let now = 0;
    const cache = new ValueCache(1024 * 1024, { retentionMs, now: () => now });
    return { cache, advance: (ms: number) => (now += ms) };
  }

  it('serves a value within the retention time of its last use, and not after it', () => {
    const { cache, advance } = clocked(60_000);
    cache.set('store', secret('/a', 1));
    advance(59_999);
    expect(cache.get('store', '/a', 1)?.version).toBe(1);
    // That use restarted its time.
    advance(59_999);
    expect(cache.get('store', '/a', 1)?.version).toBe(1);
    advance(60_000);
    expect(cache.get('store', '/a', 1)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('gives the memory of values unused for the retention time back when it sweeps, and keeps the others', () => {
    const { cache, advance } = clocked(60_000);
    cache.set('store', secret('/old', 1, 'x'.repeat(1000)));
    advance(30_000);
    cache.set('store', secret('/new', 1, 'y'.repeat(1000)));
    const both = cache.bytes;
    advance(30_000);
    cache.expire();
    expect(cache.get('store', '/old', 1)).toBeUndefined();
    expect(cache.get('store', '/new', 1)?.version).toBe(1);
    expect(cache.bytes).toBeLessThan(both);
    expect(cache.bytes).toBeGreaterThan(1000);
    advance(60_000);
    cache.expire();
    expect(cache.bytes).toBe(0);
  });

  it('keeps values for good without a retention time, within the budget', () => {
    let now = 0;
    const cache = new ValueCache(1024 * 1024, { now: () => now });
    cache.set('store', secret('/a', 1));
    now += 365 * 24 * 3600 * 1000;
    cache.expire();
    expect(cache.get('store', '/a', 1)?.version).toBe(1);
  });
});
