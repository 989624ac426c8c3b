import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';
import type { KubeClient } from './kube-client.ts';
import { fullJitterDelay, type BackoffOptions } from '../runtime/backoff.ts';
import { toKubeApiError } from './errors.ts';
import { projectForCache, type ProjectionOptions } from './cache-projection.ts';
import { listPages, watch, type KubeObject, type ListWatchOptions } from './list-watch.ts';

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, current: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions {
  /** For logs and metrics, e.g. "thalassasecrets". */
  readonly name: string;
  readonly client: KubeClient;
  /** Collection path, e.g. /apis/secrets.thalassa.cloud/v1alpha1/thalassasecrets or a namespaced one. */
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly metadataOnly?: boolean | undefined;
  readonly logger: Logger;
  readonly onRestart?: ((reason: string) => void) | undefined;
  /** Trims each object before it is projected and cached (and handed to handlers), to keep memory down. */
  readonly trim?: ((object: KubeObject) => void) | undefined;
  /** How objects are projected for the cache (src/kube/cache-projection.ts); always, this only tunes it. */
  readonly projection?: ProjectionOptions | undefined;
  /** Waits between failed lists or watches: at least `baseMs`, plus full jitter doubling up to `maxMs`. Default 1 s to 30 s. */
  readonly backoff?: BackoffOptions | undefined;
}

const defaultBackoff: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };
/** A watch that ends sooner than this without delivering anything (not even a bookmark) ended "at once". */
const earlyEndMs = 10_000;

export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/**
A reflector with a cache: list, then watch from the list's resource version, forever. It survives
what client-node's informer does not: a failed list or watch is retried with jittered backoff
(1 s to 30 s, or the server's Retry-After if longer), and so is a watch that the server or
something in between ends at once without an event; a 410 Gone re-lists and reports what changed
meanwhile (deletes included), a quiet connection is abandoned, and an exception in a handler never
stops it. `synced` resolves after
the first successful list, and `hasSynced` says so without waiting.
*/
export class Informer<T extends KubeObject> {
  readonly #options: InformerOptions;
  readonly #cache = new Map<string, T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #abort = new AbortController();
  #resourceVersion: string | undefined;
  #hasSynced = false;
  #resolveSynced!: () => void;
  #running: Promise<void> | undefined;
  readonly synced: Promise<void>;
  /** Time of the last event or successful list, for liveness. */
  lastActivityAt = 0;

  constructor(options: InformerOptions) {
    this.#options = options;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  get size(): number {
    return this.#cache.size;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { logger, name } = this.#options;
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) await this.#list();
        const openedAt = performance.now();
        const progressed = await this.#watch();
        if (progressed || performance.now() - openedAt >= earlyEndMs) {
          failures = 0;
          continue;
        }
        if (this.#stopped) break;
        // Ended at once, with nothing delivered: a server shutting down, a proxy closing streams.
        // Reopening at once would loop as fast as the server answers.
        const delay = this.#delay(failures++, undefined);
        logger.debug({ informer: name, retryInMs: delay }, 'watch ended at once, reopening after a pause');
        this.#options.onRestart?.('ended');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      } catch (error) {
        if (this.#stopped) break;
        const kubeError = toKubeApiError(error);
        if (kubeError?.code === 410) {
          // Expired: the changes since our version are gone from the server's history.
          logger.info({ informer: name }, 'watch expired, listing again');
          this.#options.onRestart?.('expired');
          this.#resourceVersion = undefined;
          continue;
        }
        const delay = this.#delay(failures++, kubeError?.retryAfterMs);
        logger.warn({ informer: name, err: error, retryInMs: delay }, 'list/watch failed, retrying');
        this.#options.onRestart?.('error');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** The wait before the next list or watch after `failures` failures in a row: the server's delay if longer. */
  #delay(failures: number, retryAfterMs: number | undefined): number {
    const backoff = this.#options.backoff ?? defaultBackoff;
    return Math.max(retryAfterMs ?? 0, backoff.baseMs + fullJitterDelay(failures, backoff));
  }

  async #list(): Promise<void> {
    const { client, path, labelSelector, metadataOnly } = this.#options;
    const options: ListWatchOptions = { labelSelector, metadataOnly, signal: this.#abort.signal };
    // Page by page into the cache: only one page of raw objects (with their managedFields) is alive at a time.
    const seen = new Set<string>();
    let resourceVersion = '';
    for await (const page of listPages<T>(client, path, options)) {
      for (const item of page.items) {
        const key = objectKey(item);
        seen.add(key);
        this.#upsert(key, item);
      }
      resourceVersion = page.resourceVersion;
    }
    for (const [key, previous] of [...this.#cache]) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        this.#emit((h) => h.onDelete?.(previous));
      }
    }
    this.#resourceVersion = resourceVersion;
    this.lastActivityAt = Date.now();
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#resolveSynced();
    }
  }

  /** One watch connection; true when it delivered anything. */
  async #watch(): Promise<boolean> {
    const { client, path, labelSelector, metadataOnly } = this.#options;
    let progressed = false;
    await watch(
      client,
      path,
      {
        resourceVersion: this.#resourceVersion ?? '',
        // Spread server-side timeouts so that many watches do not reconnect together.
        timeoutSeconds: 240 + Math.floor(Math.random() * 120),
        inactivityMs: 420_000,
        labelSelector,
        metadataOnly,
        signal: this.#abort.signal,
      },
      (type, event) => {
        const object = event as T;
        progressed = true;
        this.lastActivityAt = Date.now();
        this.#resourceVersion = object.metadata.resourceVersion ?? this.#resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = objectKey(object);
        if (type === 'DELETED') {
          this.#cache.delete(key);
          this.#emit((h) => h.onDelete?.(object));
        } else {
          this.#upsert(key, object);
        }
      },
    );
    return progressed;
  }

  #upsert(key: string, received: T): void {
    this.#options.trim?.(received);
    const object = projectForCache(received, this.#options.projection);
    const previous = this.#cache.get(key);
    this.#cache.set(key, object);
    if (!previous) this.#emit((h) => h.onAdd?.(object));
    else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) this.#emit((h) => h.onUpdate?.(previous, object));
  }

  #emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.#handlers) {
      try {
        call(handlers);
      } catch (error) {
        this.#options.logger.error({ informer: this.#options.name, err: error }, 'informer handler failed');
      }
    }
  }
}
