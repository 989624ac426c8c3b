import type { AnySecretStore, ClusterThalassaSecretStore, ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import type { Logger } from '../observability/logger.ts';
import type { ThalassaClientOptions } from '../thalassa/client.ts';
import { Credentials, type OperatorIdentity } from './credentials.ts';
import { StoreLookup } from './store-lookup.ts';
import type { DefaultStore } from './store-ref.ts';
import { ThalassaClients, type ResolvedStore } from './thalassa-clients.ts';

export { defaultTokenAudience, type OperatorIdentity } from './credentials.ts';
export { assertCaBundle, assertSafeUrl, storeDescription, type ResolvedStore } from './thalassa-clients.ts';

export interface StoreResolverOptions {
  readonly kube: KubeClient;
  readonly stores: { get(key: string): ThalassaSecretStore | undefined };
  readonly clusterStores: { get(key: string): ClusterThalassaSecretStore | undefined };
  readonly defaultStore: DefaultStore;
  readonly operatorIdentity: OperatorIdentity;
  /** Client settings every store shares (timeouts, retries, metrics hook). */
  readonly clientDefaults: Partial<Omit<ThalassaClientOptions, 'region' | 'organisation' | 'credential'>>;
  /** Rate limit for stores that set none. */
  readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  /** How long credentials and namespace labels are reused (default 60 s). */
  readonly credentialTtlMs?: number;
  /** A store's client was replaced (its spec or credentials changed): what was cached under `key` is stale. */
  readonly onStoreReplaced?: (key: string) => void;
  readonly logger: Logger;
}

/**
What a sync asks before it talks to Thalassa: which store, may this namespace use it, and the
client for it. Three jobs, each in its module: store-lookup.ts (which store, and the namespace
conditions of cluster stores), credentials.ts (credential Secrets and ServiceAccount tokens),
thalassa-clients.ts (one client per store and credential, replaced when either changes).
*/
export class StoreResolver {
  readonly #lookup: StoreLookup;
  readonly #credentials: Credentials;
  readonly #clients: ThalassaClients;

  constructor(options: StoreResolverOptions) {
    this.#lookup = new StoreLookup({
      kube: options.kube,
      stores: options.stores,
      clusterStores: options.clusterStores,
      defaultStore: options.defaultStore,
      namespaceLabelsTtlMs: options.credentialTtlMs,
    });
    this.#credentials = new Credentials({ kube: options.kube, operatorIdentity: options.operatorIdentity, ttlMs: options.credentialTtlMs });
    this.#clients = new ThalassaClients({
      clientDefaults: options.clientDefaults,
      defaultRateLimit: options.defaultRateLimit,
      onStoreReplaced: options.onStoreReplaced,
    });
  }

  /** The store of `resource`, if it may use it; the reason otherwise. */
  async resolveFor(resource: ThalassaSecret): Promise<ResolvedStore> {
    return await this.clientFor(await this.#lookup.storeFor(resource));
  }

  /** A client for `store`; throws a SyncError when its configuration or credentials are unusable. */
  async clientFor(store: AnySecretStore): Promise<ResolvedStore> {
    return this.#clients.clientFor(store, await this.#credentials.credentialFor(store));
  }

  /**
  Forgets the credentials of the store `resource` uses, so that its next use reads them again:
  after a 401, a credential Secret that was just rotated must not wait out the cache.
  */
  invalidateFor(resource: ThalassaSecret): void {
    const { store } = this.#lookup.storeOf(resource);
    if (store) this.#credentials.invalidate(store);
  }

  async close(): Promise<void> {
    await this.#clients.close();
  }
}
