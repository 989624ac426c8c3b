import { describe, expect, it } from 'vitest';
import type { ClusterThalassaSecret } from '../api/v1alpha1/cluster-thalassa-secret.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { forceSyncAnnotation } from './thalassa-secret-controller.ts';
import { childIsCurrent, childState, desiredChild, desiredChildSpec, isOwnChild, mergePatch, selects, storeRefFor, summarise, type NamespaceState } from './cluster-fan-out.ts';

const parent = (spec: Partial<ClusterThalassaSecret['spec']> = {}): ClusterThalassaSecret => ({
  apiVersion: 'secrets.thalassa.cloud/v1alpha1',
  kind: 'ClusterThalassaSecret',
  metadata: { name: 'shared', uid: 'uid-1', generation: 2 },
  spec: { data: [{ key: 'k', path: '/a' }], ...spec },
});
const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({ metadata: { name, labels } });
const now = new Date('2026-01-01T00:00:00Z');

describe('selects', () => {
  it('takes a namespace listed by name or matched by any selector', () => {
    const p = parent({ namespaces: ['by-name'], namespaceSelectors: [{ matchLabels: { team: 'a' } }, { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }] });
    expect(selects(p, namespace('by-name'))).toBe(true);
    expect(selects(p, namespace('x', { team: 'a' }))).toBe(true);
    expect(selects(p, namespace('y', { env: 'prod' }))).toBe(true);
    expect(selects(p, namespace('z', { team: 'b', env: 'dev' }))).toBe(false);
  });

  it('takes every namespace for an empty selector, none without selection', () => {
    expect(selects(parent({ namespaceSelectors: [{}] }), namespace('any'))).toBe(true);
    expect(selects(parent({}), namespace('any'))).toBe(false);
  });
});

describe('the child', () => {
  it('reads through the parent store, or the default store only when it is a cluster store', () => {
    const explicit = parent({ storeRef: { kind: 'ClusterThalassaSecretStore', name: 'shared-store' } });
    expect(storeRefFor(explicit, { kind: 'ThalassaSecretStore', name: 'x' })).toEqual({ kind: 'ClusterThalassaSecretStore', name: 'shared-store' });
    expect(storeRefFor(parent(), { kind: 'ClusterThalassaSecretStore', name: 'default' })).toEqual({ kind: 'ClusterThalassaSecretStore', name: 'default' });
    expect(storeRefFor(parent(), { kind: 'ThalassaSecretStore', name: 'thalassa' })).toBeUndefined();
  });

  it('has the spec without the namespace selection, the label and a controller reference to the parent', () => {
    const p = parent({ namespaces: ['a'], namespaceSelectors: [{}], refreshInterval: '1m' });
    const spec = desiredChildSpec(p, { kind: 'ClusterThalassaSecretStore', name: 's' });
    expect(spec).toEqual({ data: [{ key: 'k', path: '/a' }], refreshInterval: '1m', storeRef: { kind: 'ClusterThalassaSecretStore', name: 's' } });
    const child = desiredChild(p, 'team-a', spec);
    expect(child.metadata).toEqual({
      name: 'shared',
      namespace: 'team-a',
      labels: { 'secrets.thalassa.cloud/cluster-thalassa-secret': 'shared' },
      ownerReferences: [{ apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind: 'ClusterThalassaSecret', name: 'shared', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
    });
    expect(isOwnChild(child as unknown as KubeObject, p)).toBe(true);
    expect(isOwnChild(child as unknown as KubeObject, { ...p, metadata: { ...p.metadata, uid: 'uid-2' } })).toBe(false);
    expect(isOwnChild({ metadata: { name: 'shared', labels: child.metadata.labels } }, p)).toBe(false);
  });
});

describe('mergePatch', () => {
  it('removes what only the current object has and replaces what differs', () => {
    const current = { data: [{ key: 'k', path: '/a' }, { key: 'extra', path: '/b' }], target: { name: 'x', labels: { a: '1' } }, refreshInterval: '1s' };
    const desired = { data: [{ key: 'k', path: '/a' }], target: { labels: { a: '1' } } };
    expect(mergePatch(current, desired)).toEqual({ data: [{ key: 'k', path: '/a' }], target: { name: null }, refreshInterval: null });
    expect(mergePatch(desired, desired)).toEqual({});
  });
});

describe('summarise', () => {
  const child = (ready: { status: 'True' | 'False' | 'Unknown'; reason: string; message?: string } | undefined, generation = 1, observed = 1): ThalassaSecret => ({
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecret',
    metadata: { name: 'shared', namespace: 'n', generation },
    spec: { data: [] },
    ...(ready
      ? { status: { observedGeneration: observed, conditions: [{ type: 'Ready', ...ready, message: ready.message ?? '', lastTransitionTime: 't', observedGeneration: observed }] } }
      : {}),
  });

  it('tells provisioned, failing and pending children apart', () => {
    expect(childState('n', child({ status: 'True', reason: 'Synced' }))).toEqual({ namespace: 'n', state: 'provisioned' });
    expect(childState('n', child({ status: 'False', reason: 'StoreNotAllowed', message: 'no' }))).toEqual({ namespace: 'n', state: 'failed', reason: 'StoreNotAllowed', message: 'no' });
    expect(childState('n', child({ status: 'True', reason: 'Synced' }, 2, 1))).toEqual({ namespace: 'n', state: 'pending' });
    expect(childState('n', child(undefined))).toEqual({ namespace: 'n', state: 'pending' });
    expect(childState('n', undefined)).toEqual({ namespace: 'n', state: 'pending' });
  });

  it('stays bounded: counts for all, the first ten failures in namespace order, messages shortened', () => {
    const states: NamespaceState[] = [
      ...Array.from({ length: 5000 }, (_, i): NamespaceState => ({ namespace: `ok-${i}`, state: 'provisioned' })),
      ...Array.from({ length: 3000 }, (_, i): NamespaceState => ({ namespace: `bad-${String(i).padStart(4, '0')}`, state: 'failed', reason: 'StoreNotAllowed', message: 'x'.repeat(5000) })),
    ];
    const status = summarise(parent(), states.reverse(), now);
    expect(status.provisionedNamespaces).toBe(5000);
    expect(status.failedNamespaces).toBe(3000);
    expect(status.failures?.map((f) => f.namespace)).toEqual(Array.from({ length: 10 }, (_, i) => `bad-000${i}`));
    expect(status.failures?.every((f) => f.message.length <= 1024)).toBe(true);
    expect(status.conditions?.[0]).toMatchObject({ status: 'False', reason: 'NamespacesFailing', observedGeneration: 2 });
    expect(JSON.stringify(status).length).toBeLessThan(16_000);
  });

  it('is Ready when every namespace is provisioned or none matches, Unknown while some are syncing', () => {
    expect(summarise(parent(), [{ namespace: 'a', state: 'provisioned' }], now).conditions?.[0]).toMatchObject({ status: 'True', reason: 'Provisioned' });
    expect(summarise(parent(), [], now).conditions?.[0]).toMatchObject({ status: 'True', reason: 'NoMatchingNamespaces' });
    const syncing = summarise(parent(), [{ namespace: 'a', state: 'provisioned' }, { namespace: 'b', state: 'pending' }], now);
    expect(syncing.conditions?.[0]).toMatchObject({ status: 'Unknown', reason: 'Provisioning' });
    expect(syncing.failures).toBeUndefined();
    const blocked = summarise(parent(), [], now, { reason: 'NamespacedDefaultStore', message: 'm' });
    expect(blocked.conditions?.[0]).toMatchObject({ status: 'False', reason: 'NamespacedDefaultStore' });
  });
});

describe('the force-sync annotation', () => {
  const forced = (value: string | undefined): ClusterThalassaSecret => ({
    ...parent(),
    metadata: { ...parent().metadata, ...(value === undefined ? {} : { annotations: { [forceSyncAnnotation]: value } }) },
  });
  const spec = desiredChildSpec(parent(), { kind: 'ClusterThalassaSecretStore', name: 's' });
  const child = (annotations: Record<string, string> = {}) =>
    ({ ...desiredChild(forced(undefined), 'ns', spec), metadata: { ...desiredChild(forced(undefined), 'ns', spec).metadata, annotations } }) as unknown as ThalassaSecret & KubeObject;

  it('is passed on from the parent to each child', () => {
    expect(desiredChild(forced('t1'), 'ns', spec).metadata.annotations).toEqual({ [forceSyncAnnotation]: 't1' });
    expect(desiredChild(forced(undefined), 'ns', spec).metadata.annotations).toBeUndefined();
    expect(childIsCurrent(child(), forced('t1'), spec)).toBe(false);
    expect(childIsCurrent(child({ [forceSyncAnnotation]: 't1' }), forced('t1'), spec)).toBe(true);
  });

  it('set by hand on a child, without one on the parent, is left alone', () => {
    expect(childIsCurrent(child({ [forceSyncAnnotation]: 'by-hand' }), forced(undefined), spec)).toBe(true);
  });
});
