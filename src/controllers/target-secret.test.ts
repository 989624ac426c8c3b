import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { createdForAnnotation, fieldManager, ownerAnnotation } from './secret-metadata.ts';
import { managedKeysSolely, mergeRefusal, ownershipOf } from './target-secret.ts';

const resource = { metadata: { name: 'db', namespace: 'app', uid: 'uid-1' }, spec: { data: [] } } as unknown as ThalassaSecret;

function secret(metadata: Omit<NonNullable<V1Secret['metadata']>, 'name' | 'namespace'>, type?: string): V1Secret {
  return { metadata: Object.assign({ name: 'db', namespace: 'app' }, metadata), ...(type ? { type } : {}) };
}

const typeEntry = (manager: string) => ({ manager, operation: 'Update', fieldsV1: { 'f:type': {}, 'f:data': { 'f:k': {} } } });

describe('ownershipOf', () => {
  it('is ours only with the created-for marker, or the type owned by this operator alone', () => {
    expect(ownershipOf(secret({ annotations: { [ownerAnnotation]: 'app/db', [createdForAnnotation]: 'uid-1' } }), resource)).toEqual({ kind: 'ours' });
    expect(ownershipOf(secret({ annotations: { [ownerAnnotation]: 'app/db' }, managedFields: [typeEntry(fieldManager)] }), resource)).toEqual({ kind: 'ours' });
    expect(ownershipOf(secret({ annotations: { [ownerAnnotation]: 'app/db' }, managedFields: [typeEntry('kubectl'), typeEntry(fieldManager)] }), resource)).toEqual({
      kind: 'merged',
    });
    expect(ownershipOf(secret({ annotations: { [ownerAnnotation]: 'app/db' }, managedFields: [typeEntry('helm')] }), resource)).toEqual({ kind: 'merged' });
  });

  it('tells another ThalassaSecret and a foreign Secret apart', () => {
    expect(ownershipOf(secret({ annotations: { [ownerAnnotation]: 'app/other', [createdForAnnotation]: 'uid-2' } }), resource)).toEqual({
      kind: 'other-thalassa-secret',
      owner: 'app/other',
    });
    const controlled = secret({ ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u', controller: true }] });
    expect(ownershipOf(controlled, resource)).toEqual({ kind: 'foreign', controller: 'ConfigMap/cm' });
  });
});

describe('mergeRefusal', () => {
  it('refuses token types and Secrets another object controls', () => {
    expect(mergeRefusal(secret({}, 'kubernetes.io/service-account-token'), resource)).toContain('kubernetes.io/service-account-token');
    expect(mergeRefusal(secret({}, 'bootstrap.kubernetes.io/token'), resource)).toContain('bootstrap.kubernetes.io/token');
    const controlled = secret({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u', controller: true }] });
    expect(mergeRefusal(controlled, resource)).toContain('Deployment/web');
    expect(mergeRefusal(secret({}, 'kubernetes.io/tls'), resource)).toBeUndefined();
  });
});

describe('managedKeysSolely', () => {
  it('leaves out keys another manager owns too', () => {
    const shared = secret({
      managedFields: [
        { manager: fieldManager, operation: 'Apply', fieldsV1: { 'f:data': { 'f:mine': {}, 'f:both': {} } } },
        { manager: 'helm', operation: 'Apply', fieldsV1: { 'f:data': { 'f:both': {}, 'f:theirs': {} } } },
      ],
    });
    expect([...managedKeysSolely(shared).data]).toEqual(['mine']);
  });
});
