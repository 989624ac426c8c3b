import { isTransient } from '../kube/errors.ts';
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

/** A key failing the same way again is logged once per this many failures (each one at debug). */
export const repeatedFailureLogEvery = 10;

/**
Workers that take keys from a work queue and reconcile them, controller-runtime style: a failure
is retried with the key's backoff (or after the `retryAfterMs` the error names), a success resets
it. Stopping stops taking work, lets in-flight reconciles finish within a bound, then aborts them.

A failure is logged with the key, its reason and its message (messages never carry a value): at
warn, or at info when it is transient (an error whose `transient` is true, or a throttled or
failing Kubernetes API server). Not at every retry: when a key's reason changes, then once every
`repeatedFailureLogEvery` failures with the same reason, and once when it succeeds again.
*/
export class Controller {
  readonly #options: ControllerOptions;
  readonly #abort = new AbortController();
  /** Keys whose last reconcile failed: the reason and how many times in a row. */
  readonly #failing = new Map<string, { readonly reason: string; readonly count: number }>();
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
    const { queue, name, metrics, reconcile } = this.#options;
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const started = performance.now();
      metrics.activeWorkers.inc({ controller: name });
      try {
        const result = await reconcile(key, this.#abort.signal);
        queue.forget(key);
        this.#recovered(key);
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
        const serverDelay = typeof retryAfterMs === 'number' && retryAfterMs > 0 ? retryAfterMs : undefined;
        if (serverDelay !== undefined) queue.addAfter(key, serverDelay, 'low');
        else queue.addRateLimited(key);
        this.#failed(key, error, serverDelay);
      } finally {
        metrics.activeWorkers.dec({ controller: name });
        metrics.reconcileTime.observe({ controller: name }, (performance.now() - started) / 1000);
        queue.done(key);
      }
    }
  }

  #failed(key: string, error: unknown, retryAfterMs: number | undefined): void {
    const { name, logger, queue } = this.#options;
    const reason = reasonOf(error);
    const previous = this.#failing.get(key);
    const count = previous?.reason === reason ? previous.count + 1 : 1;
    this.#failing.set(key, { reason, count });
    const fields = { controller: name, key, reason, failures: count, requeues: queue.numRequeues(key), ...(retryAfterMs === undefined ? {} : { retryAfterMs }), err: error };
    if (count !== 1 && count % repeatedFailureLogEvery !== 0) {
      logger.debug(fields, 'reconcile failed again');
      return;
    }
    const transient = (error as { transient?: unknown } | undefined)?.transient === true || isTransient(error);
    const message = count === 1 ? 'reconcile failed' : `reconcile failed ${count} times in a row`;
    if (transient) logger.info(fields, message);
    else logger.warn(fields, message);
  }

  #recovered(key: string): void {
    const failing = this.#failing.get(key);
    if (!failing) return;
    this.#failing.delete(key);
    this.#options.logger.info({ controller: this.#options.name, key, after: failing.reason, failures: failing.count }, 'reconcile succeeded again');
  }
}

/** The failure's reason (a SyncError's, a Kubernetes Status reason), else the error's name. */
function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return error instanceof Error ? error.name : 'Error';
}
