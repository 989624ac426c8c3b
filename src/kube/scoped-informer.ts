import type { Logger } from '../observability/logger.ts';
import type { KubeClient } from './kube-client.ts';
import { Informer, type InformerHandlers } from './informer.ts';
import type { ProjectionOptions } from './cache-projection.ts';
import type { KubeObject } from './list-watch.ts';

export interface ScopedInformerOptions {
  readonly name: string;
  readonly client: KubeClient;
  /** e.g. `/apis/secrets.thalassa.cloud/v1alpha1` or `/api/v1`. */
  readonly apiPath: string;
  readonly plural: string;
  /** Every namespace (`all`), or only these: one watch each, so RBAC may be limited to them. */
  readonly namespaces: 'all' | readonly string[];
  readonly labelSelector?: string | undefined;
  readonly metadataOnly?: boolean | undefined;
  readonly logger: Logger;
  readonly onRestart?: ((reason: string) => void) | undefined;
  readonly trim?: ((object: KubeObject) => void) | undefined;
  readonly projection?: ProjectionOptions | undefined;
}

/** One informer over a namespaced resource, cluster-wide or per watched namespace, behind one interface. */
export class ScopedInformer<T extends KubeObject> {
  readonly #informers: Informer<T>[];
  readonly synced: Promise<void>;

  constructor(options: ScopedInformerOptions) {
    const paths =
      options.namespaces === 'all'
        ? [`${options.apiPath}/${options.plural}`]
        : options.namespaces.map((ns) => `${options.apiPath}/namespaces/${ns}/${options.plural}`);
    this.#informers = paths.map(
      (path) =>
        new Informer<T>({
          name: options.name,
          client: options.client,
          path,
          labelSelector: options.labelSelector,
          metadataOnly: options.metadataOnly,
          logger: options.logger,
          onRestart: options.onRestart,
          trim: options.trim,
          projection: options.projection,
        }),
    );
    this.synced = Promise.all(this.#informers.map(async (i) => await i.synced)).then(() => undefined);
  }

  get hasSynced(): boolean {
    return this.#informers.every((i) => i.hasSynced);
  }

  get lastActivityAt(): number {
    return Math.min(...this.#informers.map((i) => i.lastActivityAt));
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    for (const informer of this.#informers) informer.addHandlers(handlers);
  }

  get(key: string): T | undefined {
    for (const informer of this.#informers) {
      const found = informer.get(key);
      if (found) return found;
    }
    return undefined;
  }

  list(): T[] {
    return this.#informers.flatMap((i) => i.list());
  }

  get size(): number {
    return this.#informers.reduce((sum, i) => sum + i.size, 0);
  }

  start(): void {
    for (const informer of this.#informers) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map(async (i) => await i.stop()));
  }
}
