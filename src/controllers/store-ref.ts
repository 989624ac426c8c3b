import type { AnySecretStore } from '../api/v1alpha1/secret-store.ts';
import type { StoreRef, ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';

/** The operator's `--default-store`: the store of ThalassaSecrets without storeRef. */
export interface DefaultStore {
  readonly kind: StoreRef['kind'];
  readonly name: string;
}

/**
Which store a ThalassaSecret uses, decided from its spec and the operator's default store alone
(whether it may use it is the resolver's question). Everything that asks "which store?" (the
resolver, the poller's groups, the controller re-queueing a store's resources) asks here, so the
answers cannot drift apart.
*/
export type StoreIdentity =
  | {
      readonly kind: 'ThalassaSecretStore';
      readonly namespace: string;
      readonly name: string;
      /** `ThalassaSecretStore/<namespace>/<name>`: the same as storeKey() of that store. */
      readonly key: string;
      /** The resource has no storeRef: this is the default store. */
      readonly implicit: boolean;
    }
  | {
      readonly kind: 'ClusterThalassaSecretStore';
      readonly namespace?: undefined;
      readonly name: string;
      /** `ClusterThalassaSecretStore/<name>`: the same as storeKey() of that store. */
      readonly key: string;
      readonly implicit: boolean;
    };

/**
The store `resource` uses. Without storeRef it is the default store; a namespaced default store
(`--default-store ThalassaSecretStore/<name>`) is the one of that name in the resource's own
namespace, as for an explicit storeRef without kind.
*/
export function storeOf(resource: ThalassaSecret, defaultStore: DefaultStore): StoreIdentity {
  const explicit = resource.spec.storeRef;
  const ref = explicit ?? defaultStore;
  const implicit = explicit === undefined;
  if ((ref.kind ?? 'ThalassaSecretStore') === 'ClusterThalassaSecretStore') {
    return { kind: 'ClusterThalassaSecretStore', name: ref.name, key: clusterKey(ref.name), implicit };
  }
  const namespace = resource.metadata.namespace ?? '';
  return { kind: 'ThalassaSecretStore', namespace, name: ref.name, key: namespacedKey(namespace, ref.name), implicit };
}

/** The canonical key of a store object: equal to storeOf(resource).key for the resources that use it. */
export function storeKey(store: AnySecretStore): string {
  return store.kind === 'ClusterThalassaSecretStore'
    ? clusterKey(store.metadata.name)
    : namespacedKey(store.metadata.namespace ?? '', store.metadata.name);
}

/** Whether `resource` uses `store`: the one test of the controller's store handlers. */
export function usesStore(resource: ThalassaSecret, store: AnySecretStore, defaultStore: DefaultStore): boolean {
  return storeOf(resource, defaultStore).key === storeKey(store);
}

function clusterKey(name: string): string {
  return `ClusterThalassaSecretStore/${name}`;
}

function namespacedKey(namespace: string, name: string): string {
  return `ThalassaSecretStore/${namespace}/${name}`;
}
