import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Process the key again after this long, without counting a failure. */
  readonly requeueAfterMs?: number | undefined;
}

export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

export interface ControllerOptions {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly concurrency: number;
  readonly reconcile: Reconcile;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
Workers that take keys from a work queue and reconcile them, controller-runtime style: a failure
is retried with the key's backoff (or after the `retryAfterMs` the error names), a success resets
it. Stopping stops taking work, lets in-flight reconciles finish within a bound, then aborts them.
*/
export class Controller {
  readonly #options: ControllerOptions;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#workers.length > 0) return;
    this.#workers = Array.from({ length: this.#options.concurrency }, async () => await this.#work());
  }

  async stop(graceMs: number): Promise<void> {
    this.#options.queue.shutDown();
    const timer = setTimeout(() => this.#abort.abort(new Error('shutdown')), graceMs);
    await Promise.all(this.#workers);
    clearTimeout(timer);
  }

  async #work(): Promise<void> {
    const { queue, name, metrics, logger, reconcile } = this.#options;
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const started = performance.now();
      metrics.activeWorkers.inc({ controller: name });
      try {
        const result = await reconcile(key, this.#abort.signal);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          queue.addAfter(key, result.requeueAfterMs, 'low');
          metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        } else {
          metrics.reconcileTotal.inc({ controller: name, result: 'success' });
        }
      } catch (error) {
        metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        metrics.reconcileErrors.inc({ controller: name });
        const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
        if (typeof retryAfterMs === 'number' && retryAfterMs > 0) queue.addAfter(key, retryAfterMs, 'low');
        else queue.addRateLimited(key);
        logger.debug({ controller: name, key, err: error, requeues: queue.numRequeues(key) }, 'reconcile failed');
      } finally {
        metrics.activeWorkers.dec({ controller: name });
        metrics.reconcileTime.observe({ controller: name }, (performance.now() - started) / 1000);
        queue.done(key);
      }
    }
  }
}
