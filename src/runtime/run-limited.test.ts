import { describe, expect, it } from 'vitest';
import { runLimited } from './run-limited.ts';

describe('runLimited', () => {
  it('runs every task, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const tasks = Array.from({ length: 20 }, (_, i) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return i;
    });
    const results = await runLimited(tasks, 3);
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it('starts no task once the signal aborts', async () => {
    const abort = new AbortController();
    const started: number[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) => async () => {
      started.push(i);
      if (i === 1) abort.abort();
      await Promise.resolve();
    });
    await runLimited(tasks, 2, abort.signal);
    expect(started).toEqual([0, 1]);
  });
});
