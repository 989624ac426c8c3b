import { describe, expect, it } from 'vitest';
import type { AnySecretStore } from '../api/v1alpha1/secret-store.ts';
import type { StoreRef, ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { storeKey, storeOf, usesStore, type DefaultStore } from './store-ref.ts';

const clusterDefault: DefaultStore = { kind: 'ClusterThalassaSecretStore', name: 'default' };
const namespacedDefault: DefaultStore = { kind: 'ThalassaSecretStore', name: 'thalassa' };

function resource(namespace: string, storeRef?: StoreRef): ThalassaSecret {
  return {
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecret',
    metadata: { name: 'r', namespace },
    spec: { ...(storeRef ? { storeRef } : {}), data: [{ key: 'k', path: '/a' }] },
  };
}

function store(kind: AnySecretStore['kind'], name: string, namespace?: string): AnySecretStore {
  const spec = { region: 'nl-01', organisation: 'org', auth: {} };
  return kind === 'ClusterThalassaSecretStore'
    ? { apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind, metadata: { name }, spec }
    : { apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind, metadata: { name, namespace }, spec };
}

describe('storeOf', () => {
  it('gives one key for the default cluster store, whether named by storeRef or implied', () => {
    const implied = storeOf(resource('team-a'), clusterDefault);
    const named = storeOf(resource('team-b', { kind: 'ClusterThalassaSecretStore', name: 'default' }), clusterDefault);
    expect(implied).toEqual({ kind: 'ClusterThalassaSecretStore', name: 'default', key: 'ClusterThalassaSecretStore/default', implicit: true });
    expect(named.key).toBe(implied.key);
    expect(named.implicit).toBe(false);
  });

  it("finds a namespaced default store in the resource's own namespace", () => {
    expect(storeOf(resource('team-a'), namespacedDefault)).toEqual({
      kind: 'ThalassaSecretStore',
      namespace: 'team-a',
      name: 'thalassa',
      key: 'ThalassaSecretStore/team-a/thalassa',
      implicit: true,
    });
    expect(storeOf(resource('team-b'), namespacedDefault).key).toBe('ThalassaSecretStore/team-b/thalassa');
  });

  it('reads a storeRef without kind as a namespaced store, and never as the default store', () => {
    expect(storeOf(resource('team-a', { name: 'vault' }), clusterDefault)).toMatchObject({ kind: 'ThalassaSecretStore', key: 'ThalassaSecretStore/team-a/vault', implicit: false });
    expect(storeOf(resource('team-a', { kind: 'ThalassaSecretStore', name: 'vault' }), clusterDefault).key).toBe('ThalassaSecretStore/team-a/vault');
  });

  it('tells a cluster store from a namespaced one of the same name', () => {
    expect(storeOf(resource('team-a', { kind: 'ClusterThalassaSecretStore', name: 'x' }), clusterDefault).key).not.toBe(
      storeOf(resource('team-a', { name: 'x' }), clusterDefault).key,
    );
  });
});

describe('usesStore', () => {
  it('matches a resource without storeRef to the default store only', () => {
    expect(usesStore(resource('team-a'), store('ClusterThalassaSecretStore', 'default'), clusterDefault)).toBe(true);
    expect(usesStore(resource('team-a'), store('ClusterThalassaSecretStore', 'other'), clusterDefault)).toBe(false);
  });

  it('matches a resource without storeRef to a namespaced default store of its own namespace', () => {
    expect(usesStore(resource('team-a'), store('ThalassaSecretStore', 'thalassa', 'team-a'), namespacedDefault)).toBe(true);
    expect(usesStore(resource('team-a'), store('ThalassaSecretStore', 'thalassa', 'team-b'), namespacedDefault)).toBe(false);
    expect(usesStore(resource('team-a'), store('ClusterThalassaSecretStore', 'thalassa'), namespacedDefault)).toBe(false);
  });

  it('agrees with storeKey for every named store', () => {
    const stores = [store('ClusterThalassaSecretStore', 'shared'), store('ThalassaSecretStore', 'shared', 'team-a')];
    for (const candidate of stores) {
      const ref: StoreRef = { kind: candidate.kind, name: candidate.metadata.name };
      expect(storeOf(resource('team-a', ref), clusterDefault).key).toBe(storeKey(candidate));
      expect(stores.filter((s) => usesStore(resource('team-a', ref), s, clusterDefault))).toEqual([candidate]);
    }
  });
});
