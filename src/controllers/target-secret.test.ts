import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { createdForAnnotation, fieldManager, ownerAnnotation } from './secret-metadata.ts';
import { generationName, managedKeysSolely, mergeRefusal, ownershipOf, targetSettings } from './target-secret.ts';

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

describe('generationName', () => {
  it('names a content after its type and data, the same way every time', () => {
    const name = generationName('db', 'Opaque', 'abc');
    expect(name).toMatch(/^db-[0-9a-f]{10}$/);
    expect(generationName('db', 'Opaque', 'abc')).toBe(name);
    expect(generationName('db', 'Opaque', 'abd')).not.toBe(name);
    expect(generationName('db', 'kubernetes.io/tls', 'abc')).not.toBe(name);
  });

  it('stays a valid name of at most 253 characters', () => {
    const long = `${'a'.repeat(241)}.b${'c'.repeat(10)}`;
    const name = generationName(long, 'Opaque', 'abc');
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^a+-[0-9a-f]{10}$/);
  });
});

describe('targetSettings under target.immutable', () => {
  const resource = (spec: Partial<ThalassaSecret['spec']>, secretName?: string): ThalassaSecret => ({
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecret',
    metadata: { name: 'db', namespace: 'ns', uid: 'u1' },
    spec: { data: [{ key: 'k', path: '/p' }], ...spec },
    ...(secretName ? { status: { secretName } } : {}),
  });

  it('writes in place without restart targets', () => {
    const settings = targetSettings(resource({ target: { immutable: true } }, 'db-0123456789'));
    expect(settings).toMatchObject({ name: 'db', baseName: 'db', immutable: true, hashedNames: false });
  });

  it('with restart targets, continues from the generation in status, and only from one of its own', () => {
    const spec = { target: { immutable: true }, rolloutRestartTargets: [{ kind: 'Deployment' as const, name: 'app' }] };
    expect(targetSettings(resource(spec, 'db-0123456789'))).toMatchObject({ name: 'db-0123456789', hashedNames: true });
    expect(targetSettings(resource(spec, 'other-0123456789')).name).toBe('db');
    expect(targetSettings(resource(spec, 'db-extra')).name).toBe('db');
    expect(targetSettings(resource(spec)).name).toBe('db');
  });
});
