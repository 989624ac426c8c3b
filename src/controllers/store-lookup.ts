/**
Which store a ThalassaSecret uses (store-ref.ts decides, from its spec and the default store) and
whether its namespace may use it: a cluster store's `conditions` name namespaces or select them by
label. Namespace labels are read on demand and cached briefly.
*/
import type { AnySecretStore, ClusterThalassaSecretStore, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { paths, type KubeClient } from '../kube/kube-client.ts';
import { readFailure } from './kube-failure.ts';
import { matchesSelector } from './label-selector.ts';
import { storeOf, type DefaultStore, type StoreIdentity } from './store-ref.ts';
import { reasons, SyncError } from './sync-error.ts';

export interface StoreLookupOptions {
  readonly kube: KubeClient;
  readonly stores: { get(key: string): ThalassaSecretStore | undefined };
  readonly clusterStores: { get(key: string): ClusterThalassaSecretStore | undefined };
  readonly defaultStore: DefaultStore;
  /** How long a namespace's labels are reused (default 60 s). */
  readonly namespaceLabelsTtlMs?: number | undefined;
  readonly now?: () => number;
}

export class StoreLookup {
  readonly #options: StoreLookupOptions;
  readonly #namespaceLabels = new Map<string, { readonly labels: Record<string, string>; readonly readAt: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: StoreLookupOptions) {
    this.#options = options;
    this.#ttlMs = options.namespaceLabelsTtlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The store `resource` names (or the default), and the object if it exists. */
  storeOf(resource: ThalassaSecret): { identity: StoreIdentity; store: AnySecretStore | undefined } {
    const identity = storeOf(resource, this.#options.defaultStore);
    const store =
      identity.kind === 'ThalassaSecretStore' ? this.#options.stores.get(`${identity.namespace}/${identity.name}`) : this.#options.clusterStores.get(identity.name);
    return { identity, store };
  }

  /** The store of `resource` if it exists and may serve its namespace; StoreNotFound or StoreNotAllowed otherwise. */
  async storeFor(resource: ThalassaSecret): Promise<AnySecretStore> {
    const { identity, store } = this.storeOf(resource);
    if (store?.kind === 'ThalassaSecretStore') return store;
    if (store) {
      await this.#assertNamespaceAllowed(store, resource.metadata.namespace ?? '');
      return store;
    }
    const implicit = identity.implicit ? ' (the default store: this resource has no storeRef)' : '';
    if (identity.kind === 'ThalassaSecretStore') {
      throw new SyncError(reasons.StoreNotFound, `ThalassaSecretStore ${identity.namespace}/${identity.name} does not exist${implicit}`);
    }
    throw new SyncError(reasons.StoreNotFound, `ClusterThalassaSecretStore ${identity.name} does not exist${implicit}`);
  }

  async #assertNamespaceAllowed(store: ClusterThalassaSecretStore, namespace: string): Promise<void> {
    const conditions = store.spec.conditions;
    if (!conditions || conditions.length === 0) return;
    if (conditions.some((c) => c.namespaces?.includes(namespace))) return;
    if (conditions.some((c) => c.namespaceSelector)) {
      const labels = await this.#labelsOf(namespace);
      if (conditions.some((c) => c.namespaceSelector && matchesSelector(c.namespaceSelector, labels))) return;
    }
    throw new SyncError(
      reasons.StoreNotAllowed,
      `ClusterThalassaSecretStore ${store.metadata.name} does not allow namespace ${namespace} (see its spec.conditions)`,
    );
  }

  async #labelsOf(namespace: string): Promise<Record<string, string>> {
    const cached = this.#namespaceLabels.get(namespace);
    if (cached && this.#now() - cached.readAt < this.#ttlMs) return cached.labels;
    const object = await this.#options.kube
      .get<{ metadata?: { labels?: Record<string, string> } }>(paths.namespace(namespace))
      .catch((error: unknown) => {
        throw readFailure(error, `Namespace ${namespace} (for the labels a cluster store's conditions select)`);
      });
    const labels = object.metadata?.labels ?? {};
    this.#namespaceLabels.set(namespace, { labels, readAt: this.#now() });
    return labels;
  }
}
