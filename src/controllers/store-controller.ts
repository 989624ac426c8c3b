import { group } from '../api/v1alpha1/common.ts';
import type { AnySecretStore, SecretStoreStatus } from '../api/v1alpha1/secret-store.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import { objectKey } from '../kube/informer.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Controller } from '../runtime/controller.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import { nextCondition, type ReadyState } from './status.ts';
import { storeDescription, type StoreResolver } from './store-resolver.ts';
import { SyncError } from './sync-error.ts';
import { isDeepStrictEqual } from 'node:util';

type StoreObject = AnySecretStore & KubeObject;

export interface StoreControllerOptions {
  readonly stores: { get(key: string): StoreObject | undefined; addHandlers(h: { onAdd?(o: StoreObject): void; onUpdate?(p: StoreObject, c: StoreObject): void }): void };
  readonly clusterStores: { get(key: string): StoreObject | undefined; addHandlers(h: { onAdd?(o: StoreObject): void; onUpdate?(p: StoreObject, c: StoreObject): void }): void };
  readonly resolver: StoreResolver;
  readonly kube: KubeClient;
  readonly queue: WorkQueue;
  /** Credentials are not watched; a store is checked again this often. */
  readonly recheckMs: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
Keeps each store's Ready condition: its configuration is usable and its credentials are there.
It makes no Thalassa call (a sync that fails says why on the ThalassaSecret), so a thousand stores
cost the API nothing.
*/
export class StoreController {
  readonly #options: StoreControllerOptions;
  readonly #controller: Controller;

  constructor(options: StoreControllerOptions) {
    this.#options = options;
    this.#controller = new Controller({
      name: 'secretstore',
      queue: options.queue,
      concurrency: 2,
      metrics: options.metrics,
      logger: options.logger,
      reconcile: async (key) => {
        const [kind, name] = splitKey(key);
        const store = kind === 'cluster' ? options.clusterStores.get(name) : options.stores.get(name);
        if (!store) return undefined;
        await this.#reconcile(store);
        return { requeueAfterMs: options.recheckMs };
      },
    });
  }

  register(): void {
    const add = (prefix: string) => (store: StoreObject) => this.#options.queue.add(`${prefix}:${objectKey(store)}`, 'high');
    this.#options.stores.addHandlers({ onAdd: add('namespaced'), onUpdate: (p, c) => p.metadata.generation !== c.metadata.generation && add('namespaced')(c) });
    this.#options.clusterStores.addHandlers({ onAdd: add('cluster'), onUpdate: (p, c) => p.metadata.generation !== c.metadata.generation && add('cluster')(c) });
  }

  start(): void {
    this.#controller.start();
  }

  async stop(graceMs: number): Promise<void> {
    await this.#controller.stop(graceMs);
  }

  async #reconcile(store: StoreObject): Promise<void> {
    let state: ReadyState;
    try {
      await this.#options.resolver.clientFor(store);
      const spec = store.spec;
      state = {
        status: 'True',
        reason: 'Valid',
        message: `${spec.apiURL ?? 'https://api.thalassa.cloud'}, region ${spec.region}, organisation ${spec.organisation}: configuration and credentials are usable`,
      };
    } catch (error) {
      // A throttled or failing API server says nothing about the store: no status write, a retry.
      if (!(error instanceof SyncError) || error.transient) throw error;
      state = { status: 'False', reason: error.reason, message: error.message };
    }
    const generation = store.metadata.generation ?? 0;
    const next: SecretStoreStatus = {
      observedGeneration: generation,
      conditions: [nextCondition(store.status?.conditions, 'Ready', state, generation, new Date())],
    };
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(store.status ?? {})), JSON.parse(JSON.stringify(next)))) return;
    const cluster = store.kind === 'ClusterThalassaSecretStore';
    const path = paths.customStatus(
      group,
      'v1alpha1',
      cluster ? 'clusterthalassasecretstores' : 'thalassasecretstores',
      cluster ? undefined : (store.metadata.namespace ?? ''),
      store.metadata.name,
    );
    await this.#options.kube
      .patch(path, { metadata: { resourceVersion: store.metadata.resourceVersion }, status: next }, contentTypes.mergePatch)
      .catch((error: unknown) => {
        if (!isNotFound(error) && !isConflict(error)) throw error;
      });
    this.#options.logger.debug({ store: storeDescription(store), ready: state.status, reason: state.reason }, 'store checked');
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}
