import { PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdForAnnotation, managedLabel } from '../../src/controllers/secret-metadata.ts';
import { group, OperatorHarness } from '../support/operator-harness.ts';
import { isStatus, waitFor } from '../support/kube.ts';

const canary = 'CANARY-OWNERSHIP-5c1e';

/**
A Secret the operator did not create is never adopted, replaced, retyped or lost, whatever the
sequence of creationPolicy switches and restarts; Merge refuses the Secrets Kubernetes or another
controller manages, and never takes a field from another manager.
*/
describe('ownership of target Secrets', () => {
  let h: OperatorHarness;

  beforeAll(async () => {
    h = await OperatorHarness.start();
  });

  afterAll(async () => {
    await h.stop();
  });

  const b64 = (value: string) => Buffer.from(value).toString('base64');

  async function mergeInto(resource: string, secret: string, key: string, path: string): Promise<void> {
    h.putSecret(path, `${key}-${canary}`);
    await h.createThalassaSecret(resource, { data: [{ key, path }], target: { name: secret, creationPolicy: 'Merge' } });
  }

  async function switchPolicy(resource: string, secret: string, creationPolicy: 'Owner' | 'Orphan'): Promise<void> {
    await h.patchThalassaSecret(resource, { spec: { target: { name: secret, creationPolicy } } });
  }

  async function deleteThalassaSecret(name: string): Promise<void> {
    await h.objects.deleteNamespacedCustomObject({ group, version: 'v1alpha1', namespace: h.namespace, plural: 'thalassasecrets', name });
    await waitFor(
      async () =>
        await h.getThalassaSecret(name).then(
          () => false,
          (error: unknown) => isStatus(error, 404),
        ),
      { message: `ThalassaSecret ${name} to be gone` },
    );
  }

  it('never adopts a Secret it merged into when the policy switches to Owner', async () => {
    await h.core.createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: 'foreign-owner' }, stringData: { theirs: 'keep-me' } } });
    await mergeInto('merge-then-owner', 'foreign-owner', 'ours', '/ownership/owner');
    await h.waitForReason('merge-then-owner', 'Synced');

    await switchPolicy('merge-then-owner', 'foreign-owner', 'Owner');
    const refused = await h.waitForReason('merge-then-owner', 'SecretExists');
    expect(refused.status?.conditions?.[0]?.status).toBe('False');
    expect(refused.status?.conditions?.[0]?.message).toContain('creationPolicy back to Merge');
    const secret = await h.readSecret('foreign-owner');
    expect(secret?.metadata?.ownerReferences ?? []).toEqual([]);
    expect(secret?.metadata?.annotations?.[createdForAnnotation]).toBeUndefined();

    // Without an ownerReference the garbage collector has nothing to act on: the Secret outlives the resource.
    await deleteThalassaSecret('merge-then-owner');
    expect(await h.secretData('foreign-owner')).toEqual({ theirs: 'keep-me', ours: `ours-${canary}` });
  });

  it('never deletes or retypes a TLS Secret it merged into, across a switch to Orphan and a restart', async () => {
    await h.core.createNamespacedSecret({
      namespace: h.namespace,
      body: { metadata: { name: 'foreign-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } },
    });
    const before = await h.readSecret('foreign-tls');
    await mergeInto('merge-then-orphan', 'foreign-tls', 'ca.crt', '/ownership/tls-ca');
    await h.waitForReason('merge-then-orphan', 'Synced');

    await h.stopOperator();
    await switchPolicy('merge-then-orphan', 'foreign-tls', 'Orphan');
    await h.startOperator();
    await h.waitForReason('merge-then-orphan', 'SecretExists');
    const after = await h.readSecret('foreign-tls');
    expect(after?.metadata?.uid).toBe(before?.metadata?.uid);
    expect(after?.type).toBe('kubernetes.io/tls');
    expect(await h.secretData('foreign-tls')).toEqual({ 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': `ca.crt-${canary}` });
  });

  it('refuses to merge into a ServiceAccount token Secret', async () => {
    await h.core.createNamespacedServiceAccount({ namespace: h.namespace, body: { metadata: { name: 'robot' } } });
    await h.core.createNamespacedSecret({
      namespace: h.namespace,
      body: {
        metadata: { name: 'robot-token', annotations: { 'kubernetes.io/service-account.name': 'robot' } },
        type: 'kubernetes.io/service-account-token',
        // As the token controller would fill it (the test control plane does not run that controller).
        data: { token: b64('robot-token-value') },
      },
    });
    const token = b64('robot-token-value');
    await mergeInto('merge-sa-token', 'robot-token', 'token', '/ownership/token');
    const refused = await h.waitForReason('merge-sa-token', 'ProtectedSecret');
    expect(refused.status?.conditions?.[0]?.message).toContain('kubernetes.io/service-account-token');
    const secret = await h.readSecret('robot-token');
    expect(secret?.data?.['token']).toBe(token);
    expect(secret?.metadata?.labels?.[managedLabel]).toBeUndefined();
  });

  it('refuses to merge into a Secret another controller manages', async () => {
    const owner = await h.core.createNamespacedConfigMap({ namespace: h.namespace, body: { metadata: { name: 'controller' } } });
    await h.core.createNamespacedSecret({
      namespace: h.namespace,
      body: {
        metadata: {
          name: 'controlled',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'controller', uid: owner.metadata?.uid ?? '', controller: true }],
        },
        stringData: { theirs: 'keep-me' },
      },
    });
    await mergeInto('merge-controlled', 'controlled', 'ours', '/ownership/controlled');
    const refused = await h.waitForReason('merge-controlled', 'ProtectedSecret');
    expect(refused.status?.conditions?.[0]?.message).toContain('ConfigMap/controller');
    expect(await h.secretData('controlled')).toEqual({ theirs: 'keep-me' });
  });

  it('admission refuses a target type that Kubernetes manages', async () => {
    for (const type of ['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token']) {
      const created = h.createThalassaSecret(`type-${type.split('/')[0]?.replaceAll('.', '-') ?? ''}`, {
        data: [{ key: 'token', path: '/ownership/type' }],
        target: { type, annotations: { 'kubernetes.io/service-account.name': 'default' } },
      });
      await expect(created).rejects.toThrow(/managed by Kubernetes and cannot be a target/);
    }
  });

  it('under Merge, never takes a key or a label another field manager owns', async () => {
    const helmApply = async (body: V1Secret) =>
      await h.core.patchNamespacedSecret(
        { name: 'helm-owned', namespace: h.namespace, body, fieldManager: 'helm' },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    await helmApply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'helm-owned', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
      // data, not stringData: an apply of stringData records f:stringData as the owned field.
      data: { password: b64('helm-value'), other: b64('helm-other') },
    });
    h.putSecret('/ownership/helm/password', `password-${canary}`);
    h.putSecret('/ownership/helm/extra', `extra-${canary}`);
    await h.createThalassaSecret('merge-helm', {
      data: [
        { key: 'password', path: '/ownership/helm/password' },
        { key: 'extra', path: '/ownership/helm/extra' },
      ],
      target: { name: 'helm-owned', creationPolicy: 'Merge' },
    });
    const conflict = await h.waitForReason('merge-helm', 'FieldConflict');
    expect(conflict.status?.conditions?.[0]?.message).toContain('"helm"');
    expect(conflict.status?.conditions?.[0]?.message).toContain('.data.password');
    expect(await h.secretData('helm-owned')).toEqual({ password: 'helm-value', other: 'helm-other' });

    // Once Helm gives the key up, the operator writes its keys and still leaves Helm's label alone.
    await helmApply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'helm-owned', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
      data: { other: b64('helm-other') },
    });
    await h.patchThalassaSecret('merge-helm', { metadata: { annotations: { retry: '1' } } });
    await h.waitForReason('merge-helm', 'Synced');
    const secret = await h.readSecret('helm-owned');
    expect(secret?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(secret?.metadata?.labels?.[managedLabel]).toBe('true');
    expect(await h.secretData('helm-owned')).toEqual({ password: `password-${canary}`, extra: `extra-${canary}`, other: 'helm-other' });
  });

  it('takes back, under Orphan, the Secret it created for an earlier resource of the same name', async () => {
    h.putSecret('/ownership/orphan', `orphan-${canary}`);
    const spec = { data: [{ key: 'value', path: '/ownership/orphan' }], target: { creationPolicy: 'Orphan' as const } };
    await h.createThalassaSecret('orphaned', spec);
    await h.waitForReason('orphaned', 'Synced');
    const first = await h.readSecret('orphaned');
    await deleteThalassaSecret('orphaned');

    await h.createThalassaSecret('orphaned', spec);
    const again = await h.waitForReason('orphaned', 'Synced');
    const secret = await h.readSecret('orphaned');
    expect(secret?.metadata?.uid).toBe(first?.metadata?.uid);
    expect(secret?.metadata?.annotations?.[createdForAnnotation]).toBe(again.metadata.uid);
  });

  it('recognises, after an upgrade, the Secrets an earlier version created, without revealing them again', async () => {
    h.putSecret('/ownership/upgrade', `upgrade-${canary}`);
    await h.createThalassaSecret('upgraded', { data: [{ key: 'value', path: '/ownership/upgrade' }] });
    await h.waitForReason('upgraded', 'Synced');
    await h.stopOperator();
    // What operator 0.1 left: the well-known label and the owner annotation, neither our label nor the marker.
    await h.core.patchNamespacedSecret(
      {
        name: 'upgraded',
        namespace: h.namespace,
        body: { metadata: { labels: { [managedLabel]: null }, annotations: { [createdForAnnotation]: null } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const legacy = await h.readSecret('upgraded');
    const reveals = h.revealCount();

    await h.startOperator();
    const labelled = await waitFor(async () => {
      const secret = await h.readSecret('upgraded');
      return secret?.metadata?.labels?.[managedLabel] === 'true' ? secret : undefined;
    }, { message: 'the earlier Secret to get the managed label' });
    h.operator?.queue.add(`${h.namespace}/upgraded`, 'high');
    await waitFor(() => h.operator?.queue.length === 0 && h.operator.queue.processingCount === 0, { message: 'the queue to drain' });
    expect(h.revealCount()).toBe(reveals);
    expect(labelled.data).toEqual(legacy?.data);
    expect((await h.getThalassaSecret('upgraded')).status?.conditions?.[0]?.reason).toBe('Synced');
  });

  it('keeps values out of every output', async () => {
    expect(await h.outputs()).not.toContain(canary);
  });
});
