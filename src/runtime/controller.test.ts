import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../controllers/sync-error.ts';
import { KubeApiError } from '../kube/errors.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { Controller, repeatedFailureLogEvery } from './controller.ts';
import { RateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './workqueue.ts';

/** Runs `outcomes` through one controller, one reconcile each, and returns what it logged. */
async function logsOf(outcomes: (Error | undefined)[]): Promise<{ lines: Record<string, unknown>[]; delays: number[] }> {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
      done();
    },
  });
  const queue = new WorkQueue({ rateLimiter: new RateLimiter({ baseDelayMs: 1, maxDelayMs: 1, overallPerSecond: 0, overallBurst: 1 }) });
  const delays: number[] = [];
  const addAfter = queue.addAfter.bind(queue);
  // Every retry at once, and noted: the test is about what is logged, not about waiting.
  queue.addAfter = (key, delayMs, priority) => {
    delays.push(delayMs);
    addAfter(key, 0, priority);
  };
  let index = 0;
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const controller = new Controller({
    name: 'test',
    queue,
    concurrency: 1,
    metrics: new Metrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'debug', destination }),
    reconcile: () => {
      const outcome = outcomes[index++];
      if (index === outcomes.length) finished();
      return outcome ? Promise.reject(outcome) : Promise.resolve(undefined);
    },
  });
  controller.start();
  queue.add('ns/app');
  await allDone;
  await controller.stop(1_000);
  return { lines, delays };
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const levels = (lines: Record<string, unknown>[]) => lines.map((l) => `${text(l['level'])} ${text(l['msg'])} ${text(l['reason']) || text(l['after'])}`);

describe('Controller', () => {
  it('logs a failure at warn with its key, reason and message, then only when the reason changes or every N failures', async () => {
    const denied = new SyncError('PermissionDenied', 'reveal /app/db: 403 permission denied (store ThalassaSecretStore/ns/s)');
    const missing = new SyncError('RemoteSecretNotFound', 'get /app/db: 404 (store ThalassaSecretStore/ns/s)');
    const outcomes = [...Array.from({ length: repeatedFailureLogEvery + 1 }, () => denied), missing, undefined];
    const { lines } = await logsOf(outcomes);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'reconcile failed', controller: 'test', key: 'ns/app', reason: 'PermissionDenied', failures: 1 });
    expect((lines[0]?.['err'] as { message?: string } | undefined)?.message).toBe(denied.message);
    expect(levels(lines.filter((l) => l['level'] !== 'debug'))).toEqual([
      'warn reconcile failed PermissionDenied',
      `warn reconcile failed ${repeatedFailureLogEvery} times in a row PermissionDenied`,
      'warn reconcile failed RemoteSecretNotFound',
      'info reconcile succeeded again RemoteSecretNotFound',
    ]);
    // Every other failure is there at debug.
    expect(lines.filter((l) => l['level'] === 'debug')).toHaveLength(repeatedFailureLogEvery - 1);
  });

  it('logs a throttled or failing Kubernetes API at info, and requeues after the server\'s delay', async () => {
    const throttled = new SyncError('KubernetesThrottled', 'Kubernetes API, reading Secret ns/token: Too many requests', { retryAfterMs: 3_000 });
    const { lines, delays } = await logsOf([throttled, new KubeApiError(503, 'ServiceUnavailable', 'unavailable'), undefined]);
    expect(levels(lines.filter((l) => l['level'] !== 'debug'))).toEqual([
      'info reconcile failed KubernetesThrottled',
      'info reconcile failed ServiceUnavailable',
      'info reconcile succeeded again ServiceUnavailable',
    ]);
    expect(lines[0]).toMatchObject({ retryAfterMs: 3_000 });
    // The first after the server's Retry-After; the second (no Retry-After) after the key's backoff.
    expect(delays[0]).toBe(3_000);
  });
});
