import { refreshPolicyOf, type ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { AnySecretStore } from '../api/v1alpha1/secret-store.ts';
import { objectKey } from '../kube/informer.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { ScopedInformer } from '../kube/scoped-informer.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Controller } from '../runtime/controller.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import type { ShardMember } from '../sharding/member.ts';
import { ownerAnnotation } from './secret-metadata.ts';
import { usesStore, type DefaultStore } from './store-ref.ts';
import { targetSettings } from './target-secret.ts';
import type { ThalassaSecretReconciler } from './thalassa-secret-reconciler.ts';

/** Changing this annotation (to any new value) makes the operator check versions now. */
export const forceSyncAnnotation = 'secrets.thalassa.cloud/force-sync';

export interface ThalassaSecretControllerOptions {
  readonly resources: ScopedInformer<ThalassaSecret & KubeObject>;
  readonly managedSecrets: ScopedInformer<KubeObject>;
  readonly stores: ScopedInformer<AnySecretStore & KubeObject>;
  readonly clusterStores: { addHandlers(handlers: { onAdd?(o: AnySecretStore & KubeObject): void; onUpdate?(p: AnySecretStore & KubeObject, c: AnySecretStore & KubeObject): void }): void };
  readonly queue: WorkQueue;
  readonly reconciler: ThalassaSecretReconciler;
  /** The store of resources without storeRef: a change to it re-queues them. */
  readonly defaultStore: DefaultStore;
  readonly concurrency: number;
  /** Called when a resource changed in a way that may change what it follows (the poller's registry). */
  readonly onResourceChanged?: ((resource: ThalassaSecret | undefined, key: string) => void) | undefined;
  /** Called instead of queueing when the force-sync annotation changed: check versions first. */
  readonly onForceSync?: ((key: string) => void) | undefined;
  /** Sharded mode: a resource the sharder asks back is released instead of reconciled. */
  readonly shardMember?: ShardMember | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
Turns events into queue keys, and queue keys into reconciles. Users' changes (a new or edited
resource, a force-sync, a damaged Secret) take the high lane; the start-up flood and periodic work
the low one. A resource's own status writes are not events worth a reconcile.
*/
export class ThalassaSecretController {
  readonly #options: ThalassaSecretControllerOptions;
  readonly #controller: Controller;

  constructor(options: ThalassaSecretControllerOptions) {
    this.#options = options;
    this.#controller = new Controller({
      name: 'thalassasecret',
      queue: options.queue,
      concurrency: options.concurrency,
      metrics: options.metrics,
      logger: options.logger,
      reconcile: async (key, signal) => {
        const resource = options.resources.get(key);
        if (!resource || resource.metadata.deletionTimestamp) return undefined;
        // Reached only once any earlier reconcile of this key has ended: the queue runs a key once at a time.
        if (options.shardMember?.draining(resource)) {
          await options.shardMember.release(resource);
          return undefined;
        }
        return await options.reconciler.reconcile(resource, signal);
      },
    });
  }

  /** Registers the event handlers; call before the informers start. */
  register(): void {
    const { resources, managedSecrets, stores, clusterStores, queue, reconciler } = this.#options;
    resources.addHandlers({
      onAdd: (resource) => {
        // Before the first list completes, adds are the start-up flood.
        queue.add(objectKey(resource), resources.hasSynced ? 'high' : 'low');
        this.#options.onResourceChanged?.(resource, objectKey(resource));
      },
      onUpdate: (previous, current) => {
        if (!specOrIntentChanged(previous, current)) return;
        const key = objectKey(current);
        this.#options.onResourceChanged?.(current, key);
        // OnChange is never polled: a new spec takes the current versions, so they are checked first, as for a force-sync.
        const forced =
          previous.metadata.annotations?.[forceSyncAnnotation] !== current.metadata.annotations?.[forceSyncAnnotation] ||
          (refreshPolicyOf(current) === 'OnChange' && previous.metadata.generation !== current.metadata.generation);
        if (forced && this.#options.onForceSync) this.#options.onForceSync(key);
        else queue.add(key, 'high');
      },
      onDelete: (resource) => {
        const key = objectKey(resource);
        queue.cancelDelayed(key);
        const settings = targetSettings(resource);
        reconciler.forget(settings.namespace, settings.name);
        this.#options.onResourceChanged?.(undefined, key);
      },
    });
    const onSecret = (secret: KubeObject) => {
      const owner = secret.metadata.annotations?.[ownerAnnotation];
      if (owner && resources.get(owner)) queue.add(owner, 'high');
    };
    managedSecrets.addHandlers({
      onAdd: onSecret,
      onUpdate: (_previous, current) => onSecret(current),
      onDelete: onSecret,
    });
    const onStore = (store: AnySecretStore & KubeObject) => {
      for (const resource of resources.list()) {
        if (usesStore(resource, store, this.#options.defaultStore)) queue.add(objectKey(resource), 'low');
      }
    };
    stores.addHandlers({ onAdd: onStore, onUpdate: (_p, c) => onStore(c) });
    clusterStores.addHandlers({ onAdd: onStore, onUpdate: (_p, c) => onStore(c) });
  }

  start(): void {
    this.#controller.start();
  }

  async stop(graceMs: number): Promise<void> {
    await this.#controller.stop(graceMs);
  }
}

/** A change of spec (generation), labels or annotations; not the operator's own status writes. */
function specOrIntentChanged(previous: KubeObject, current: KubeObject): boolean {
  return (
    previous.metadata.generation !== current.metadata.generation ||
    JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(current.metadata.annotations ?? {}) ||
    JSON.stringify(previous.metadata.labels ?? {}) !== JSON.stringify(current.metadata.labels ?? {}) ||
    previous.metadata.uid !== current.metadata.uid
  );
}

