import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { OperatorHarness, organisation, region } from '../support/operator-harness.ts';
import { waitFor } from '../support/kube.ts';

const canary = 'CANARY-FAILURE-41d0';

describe('the sync controller when Thalassa says no', () => {
  let h: OperatorHarness;
  let forced = 0;

  beforeAll(async () => {
    h = await OperatorHarness.start();
  });

  afterAll(async () => {
    h.emulator.setFaults({});
    await h.stop();
  });

  /** Syncs version 1, publishes version 2, breaks something, forces a check: the Secret must keep version 1. */
  async function syncThenBreak(name: string, breakIt: (path: string) => void, reason: string, repair: () => void): Promise<void> {
    const path = `/failures/${name}`;
    h.putSecret(path, `v1-${canary}`);
    await h.createThalassaSecret(name, { data: [{ key: 'value', path }] });
    await h.waitForReason(name, 'Synced');
    h.putSecret(path, `v2-${canary}`);
    breakIt(path);
    try {
      await h.patchThalassaSecret(name, { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
      const resource = await h.waitForReason(name, reason);
      expect(resource.status?.conditions?.[0]?.status).toBe('False');
      expect(resource.status?.syncedVersions).toEqual([{ path, version: 1 }]);
      expect(await h.secretData(name)).toEqual({ value: `v1-${canary}` });
    } finally {
      repair();
    }
  }

  it('reports a policy denial and keeps the Secret', async () => {
    await syncThenBreak(
      'policy',
      (path) => h.emulator.setAccessPolicy({ organisation, region, path, policy: { conditions: [{ type: 'ip', effect: 'deny', cidrs: ['127.0.0.0/8'] }] } }),
      'AccessPolicyDenied',
      () => undefined,
    );
  });

  it('reports a missing permission and keeps the Secret', async () => {
    await syncThenBreak(
      'iam',
      () =>
        h.emulator.seed({
          principals: [{ name: 'operator', organisation, permissions: [{ actions: ['read', 'list'] }] }],
        }),
      'PermissionDenied',
      () => h.emulator.seed({ principals: [{ name: 'operator', organisation, permissions: [{ actions: ['read', 'list', 'getSecretValue'] }] }] }),
    );
  });

  it('reports a disabled KMS key and keeps the Secret', async () => {
    await syncThenBreak('kms', () => h.emulator.setKmsKeyStatus('kms-test', 'disabled'), 'KMSKeyDisabled', () => h.emulator.setKmsKeyStatus('kms-test', 'active'));
  });

  it('reports a disabled feature gate and keeps the Secret', async () => {
    await syncThenBreak('feature', () => h.emulator.setFeature(organisation, 'secrets', false), 'FeatureDisabled', () => h.emulator.setFeature(organisation, 'secrets', true));
  });

  it('reports an outage and keeps the Secret, then recovers', async () => {
    await syncThenBreak('outage', () => h.emulator.setFaults({ outage: 'unavailable' }), 'ThalassaUnavailable', () => h.emulator.setFaults({}));
    await h.patchThalassaSecret('outage', { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
    await h.waitForReason('outage', 'Synced');
    expect(await h.secretData('outage')).toEqual({ value: `v2-${canary}` });
  });

  it('reports an unreachable API and keeps the Secret', async () => {
    await syncThenBreak('unreachable', () => h.emulator.setFaults({ outage: 'refuse' }), 'ThalassaUnreachable', () => h.emulator.setFaults({}));
  });

  it('reports a destroyed pinned version', async () => {
    h.putSecret('/failures/pinned', 'one');
    h.putSecret('/failures/pinned', 'two');
    h.emulator.destroyVersion({ organisation, region, path: '/failures/pinned', version: 1 });
    await h.createThalassaSecret('pinned-destroyed', { data: [{ key: 'value', path: '/failures/pinned', version: 1 }] });
    await h.waitForReason('pinned-destroyed', 'VersionDestroyed');
    expect(await h.readSecret('pinned-destroyed')).toBeUndefined();
  });

  it('keeps the Secret when the followed version is destroyed', async () => {
    h.putSecret('/failures/latest', 'one');
    await h.createThalassaSecret('latest-destroyed', { data: [{ key: 'value', path: '/failures/latest' }] });
    await h.waitForReason('latest-destroyed', 'Synced');
    h.putSecret('/failures/latest', 'two');
    await h.patchThalassaSecret('latest-destroyed', { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
    await h.waitForData('latest-destroyed', { value: 'two' });
    h.emulator.destroyVersion({ organisation, region, path: '/failures/latest', version: 2 });
    await h.patchThalassaSecret('latest-destroyed', { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
    const resource = await h.waitForReason('latest-destroyed', 'VersionDestroyed');
    expect(resource.status?.conditions?.[0]?.message).toContain('version 2 of /failures/latest was destroyed');
    expect(await h.secretData('latest-destroyed')).toEqual({ value: 'two' });
  });

  it('keeps the Secret of a deleted remote secret under Retain, and deletes it under Delete', async () => {
    h.putSecret('/failures/retained', 'kept');
    h.putSecret('/failures/deleted', 'gone');
    await h.createThalassaSecret('retained', { data: [{ key: 'value', path: '/failures/retained' }] });
    await h.createThalassaSecret('deleted', {
      data: [{ key: 'value', path: '/failures/deleted' }],
      target: { creationPolicy: 'Owner', deletionPolicy: 'Delete' },
    });
    await h.waitForReason('retained', 'Synced');
    await h.waitForReason('deleted', 'Synced');
    h.emulator.deleteSecret({ organisation, region, path: '/failures/retained' });
    h.emulator.deleteSecret({ organisation, region, path: '/failures/deleted' });
    for (const name of ['retained', 'deleted']) {
      await h.patchThalassaSecret(name, { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
    }
    await h.waitForReason('retained', 'RemoteSecretNotFound');
    expect(await h.secretData('retained')).toEqual({ value: 'kept' });
    await waitFor(async () => (await h.readSecret('deleted')) === undefined, { message: 'the Secret to be deleted under deletionPolicy Delete' });
    const deleted = await h.waitForReason('deleted', 'RemoteSecretNotFound');
    expect(deleted.status?.conditions?.[0]?.message).toContain('was deleted (deletionPolicy Delete)');
  });

  it('keeps a Delete-policy Secret when a store edit (not a deletion) makes its secret answer 404', async () => {
    await h.createStore('editable');
    h.putSecret('/failures/misconfigured', 'still-here');
    await h.createThalassaSecret('misconfigured', {
      storeRef: { name: 'editable' },
      data: [{ key: 'value', path: '/failures/misconfigured' }],
      target: { creationPolicy: 'Owner', deletionPolicy: 'Delete' },
    });
    await h.waitForReason('misconfigured', 'Synced');
    // The wrong project scope: Thalassa answers 404 for a secret that exists.
    await h.objects.patchNamespacedCustomObject(
      { group: 'secrets.thalassa.cloud', version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecretstores', name: 'editable', body: { spec: { project: 'prj-1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await h.patchThalassaSecret('misconfigured', { metadata: { annotations: { [forceSyncAnnotation]: String(++forced) } } });
    const resource = await h.waitForReason('misconfigured', 'RemoteSecretNotFound');
    expect(resource.status?.conditions?.[0]?.message).toContain('is kept: it was written through another configuration of the store');
    expect(await h.secretData('misconfigured')).toEqual({ value: 'still-here' });
  });

  it('reports a key collision between sources without writing anything', async () => {
    h.putSecret('/failures/collide/a', { user: 'a' });
    h.putSecret('/failures/collide/b', 'b');
    await h.createThalassaSecret('collision', {
      data: [{ key: 'user', path: '/failures/collide/b' }],
      dataFrom: [{ path: '/failures/collide/a' }],
    });
    const resource = await h.waitForReason('collision', 'KeyCollision');
    expect(resource.status?.conditions?.[0]?.message).toContain('both write the key "user"');
    expect(await h.readSecret('collision')).toBeUndefined();
  });

  it('keeps values and tokens out of every output, failures included', async () => {
    const outputs = await h.outputs();
    expect(outputs).not.toContain(canary);
    expect(outputs).not.toContain('CANARY-7f3a');
    expect(h.logs.length).toBeGreaterThan(10);
  });
});
