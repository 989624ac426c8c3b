import { describe, expect, it } from 'vitest';
import { compactJson, Interner, lastAppliedAnnotation, projectForCache } from './cache-projection.ts';
import type { KubeObject } from './list-watch.ts';

function thalassaSecret(): KubeObject & { spec: unknown; status: unknown } {
  return JSON.parse(
    JSON.stringify({
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecret',
      metadata: {
        name: 's-1',
        namespace: 'team-a',
        uid: 'u-1',
        resourceVersion: '42',
        generation: 3,
        creationTimestamp: '2026-12-02T12:00:00Z',
        finalizers: ['x'],
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
        labels: { app: 'web' },
        annotations: { [lastAppliedAnnotation]: '{"spec":{}}', 'secrets.thalassa.cloud/force-sync': '1' },
        ownerReferences: [{ apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind: 'ClusterThalassaSecret', name: 'c', uid: 'u-0', controller: true }],
      },
      spec: { storeRef: { name: 'thalassa' }, data: [{ key: 'value', path: '/a/b', version: 2 }], refreshInterval: '10s' },
      status: {
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', lastTransitionTime: 't', observedGeneration: 3 }],
        syncedVersions: [{ path: '/a/b', version: 2 }],
      },
    }),
  ) as KubeObject & { spec: unknown; status: unknown };
}

describe('projectForCache', () => {
  it('keeps what the controllers read and drops managedFields, creationTimestamp, finalizers and the last-applied copy', () => {
    const original = thalassaSecret();
    const projected = projectForCache(original, { interner: new Interner() });
    expect(projected).toEqual({
      apiVersion: 'secrets.thalassa.cloud/v1alpha1',
      kind: 'ThalassaSecret',
      metadata: {
        name: 's-1',
        namespace: 'team-a',
        uid: 'u-1',
        resourceVersion: '42',
        generation: 3,
        labels: { app: 'web' },
        annotations: { 'secrets.thalassa.cloud/force-sync': '1' },
        ownerReferences: [{ apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind: 'ClusterThalassaSecret', name: 'c', uid: 'u-0', controller: true }],
      },
      spec: original.spec,
      status: original.status,
    });
    // A copy: the received object is left as it was.
    expect(original.metadata).toHaveProperty('managedFields');
    expect(projected.spec).not.toBe(original.spec);
  });

  it('leaves absent fields absent, so JSON and deep equality see the object the server sent', () => {
    const projected = projectForCache({ metadata: { name: 'n' } }, { interner: new Interner() });
    expect(Object.keys(projected.metadata)).toEqual(['name']);
    expect(JSON.stringify(projected)).toBe('{"metadata":{"name":"n"}}');
  });

  it('drops generation on request (managed Secrets)', () => {
    const projected = projectForCache(thalassaSecret(), { dropGeneration: true, interner: new Interner() });
    expect(projected.metadata).not.toHaveProperty('generation');
    expect(projected.metadata.resourceVersion).toBe('42');
  });
});

describe('compactJson', () => {
  it('copies arrays, objects, numbers, booleans and null as they are', () => {
    const value = { a: [1, 'x', null, true, { b: 'y' }], c: 0 };
    expect(compactJson(value, new Interner())).toEqual(value);
  });
});

describe('Interner', () => {
  it('keeps one entry per distinct string', () => {
    const interner = new Interner(4);
    for (let i = 0; i < 10; i++) interner.intern(`team-${i % 2}`);
    expect(interner.size).toBe(2);
  });

  it('holds at most two generations of strings', () => {
    const interner = new Interner(4);
    for (let i = 0; i < 100; i++) interner.intern(`s-${i}`);
    expect(interner.size).toBeLessThanOrEqual(8);
  });

  it('keeps a string in use across generations: found in the older one, it moves to the newer', () => {
    const interner = new Interner(2);
    interner.intern('shared');
    interner.intern('a');
    interner.intern('b'); // the first generation (shared, a) becomes the older one
    interner.intern('shared'); // moved into the newer generation
    interner.intern('c'); // the newer (b, shared) is full: (shared, a) is dropped, (b, shared) is kept
    const before = interner.size;
    interner.intern('shared');
    expect(interner.size).toBe(before);
  });

  it('does not intern long strings', () => {
    const interner = new Interner();
    interner.intern('x'.repeat(1000));
    expect(interner.size).toBe(0);
  });
});
