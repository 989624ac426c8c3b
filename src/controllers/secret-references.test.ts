import { describe, expect, it } from 'vitest';
import { annotationOperation, pointerToken, repointOperations, secretReferences, type PodSpecLike } from './secret-references.ts';

const spec: PodSpecLike = {
  volumes: [
    { secret: { secretName: 'db-1' } },
    {},
    { projected: { sources: [{}, { secret: { name: 'db-1' } }, { secret: { name: 'other' } }] } },
  ],
  containers: [
    { env: [{}, { valueFrom: { secretKeyRef: { name: 'db-1' } } }], envFrom: [{ secretRef: { name: 'db' } }] },
  ],
  initContainers: [{ envFrom: [{}, { secretRef: { name: 'db-1' } }] }],
  imagePullSecrets: [{ name: 'registry' }, { name: 'db-1' }],
};

describe('secretReferences', () => {
  it('finds every place a pod spec names a Secret, with its JSON Pointer', () => {
    expect(secretReferences(spec)).toEqual([
      { pointer: '/volumes/0/secret/secretName', name: 'db-1' },
      { pointer: '/volumes/2/projected/sources/1/secret/name', name: 'db-1' },
      { pointer: '/volumes/2/projected/sources/2/secret/name', name: 'other' },
      { pointer: '/containers/0/env/1/valueFrom/secretKeyRef/name', name: 'db-1' },
      { pointer: '/containers/0/envFrom/0/secretRef/name', name: 'db' },
      { pointer: '/initContainers/0/envFrom/1/secretRef/name', name: 'db-1' },
      { pointer: '/imagePullSecrets/0/name', name: 'registry' },
      { pointer: '/imagePullSecrets/1/name', name: 'db-1' },
    ]);
    expect(secretReferences(undefined)).toEqual([]);
  });
});

describe('repointOperations', () => {
  it('tests each old name before replacing it, and leaves other Secrets alone', () => {
    const operations = repointOperations(spec, '/spec/template/spec', new Set(['db', 'db-1']), 'db-2');
    expect(operations).toHaveLength(12);
    expect(operations.slice(0, 2)).toEqual([
      { op: 'test', path: '/spec/template/spec/volumes/0/secret/secretName', value: 'db-1' },
      { op: 'replace', path: '/spec/template/spec/volumes/0/secret/secretName', value: 'db-2' },
    ]);
    expect(operations.some((o) => o.value === 'other' || o.value === 'registry')).toBe(false);
    expect(operations).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/envFrom/0/secretRef/name', value: 'db-2' });
  });

  it('has nothing to do for a workload already pointed at the new Secret', () => {
    expect(repointOperations({ volumes: [{ secret: { secretName: 'db-2' } }] }, '', new Set(['db-2', 'db-1']), 'db-2')).toEqual([]);
  });
});

describe('annotationOperation', () => {
  it('adds into existing annotations, with the key escaped', () => {
    expect(annotationOperation('/metadata', { annotations: {} }, 'a.io/x~y', 'v')).toEqual({ op: 'add', path: '/metadata/annotations/a.io~1x~0y', value: 'v' });
  });
  it('creates the map, or the metadata, when absent', () => {
    expect(annotationOperation('/metadata', {}, 'k', 'v')).toEqual({ op: 'add', path: '/metadata/annotations', value: { k: 'v' } });
    expect(annotationOperation('/spec/template/metadata', undefined, 'k', 'v')).toEqual({ op: 'add', path: '/spec/template/metadata', value: { annotations: { k: 'v' } } });
  });
  it('escapes ~ before /', () => {
    expect(pointerToken('~1/')).toBe('~01~1');
  });
});
