import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorHarness } from '../support/operator-harness.ts';
import { waitFor } from '../support/kube.ts';

const canary = 'CANARY-VALUE-9c1e5d';

describe('the sync controller', () => {
  let h: OperatorHarness;

  beforeAll(async () => {
    h = await OperatorHarness.start();
  });

  afterAll(async () => {
    await h.stop();
  });

  it('syncs every source kind on the first sync', async () => {
    h.putSecret('/app/db/password', `pw-${canary}`);
    h.putSecret('/app/db/replica', { host: 'replica.local', port: '5432' });
    h.putSecret('/app/db/creds', { username: 'app', 'db-password': `kv-${canary}` });
    h.putSecret('/app/shared/api/key', 'api-key');
    h.putSecret('/app/shared/flags', { debug: 'on' });
    await h.createThalassaSecret('all-kinds', {
      data: [
        { key: 'password', path: '/app/db/password' },
        { key: 'replica-host', path: '/app/db/replica', property: 'host' },
      ],
      dataFrom: [{ path: '/app/db/creds' }, { pathPrefix: '/app/shared/' }],
    });
    const resource = await h.waitForReason('all-kinds', 'Synced');
    expect(await h.secretData('all-kinds')).toEqual({
      password: `pw-${canary}`,
      'replica-host': 'replica.local',
      username: 'app',
      'db-password': `kv-${canary}`,
      api_key: 'api-key',
      debug: 'on',
    });
    expect(resource.status?.syncedVersions).toHaveLength(5);
    expect(resource.status?.secretName).toBe('all-kinds');
  });

  it('writes templated and typed Secrets', async () => {
    h.putSecret('/app/web/tls-crt', 'CERT');
    h.putSecret('/app/web/tls-key', 'KEY');
    await h.createThalassaSecret('web-tls', {
      data: [
        { key: 'tls.crt', path: '/app/web/tls-crt' },
        { key: 'tls.key', path: '/app/web/tls-key' },
      ],
      target: { type: 'kubernetes.io/tls', labels: { app: 'web' }, annotations: { team: 'edge' } },
    });
    h.putSecret('/app/url/password', 's3cret');
    await h.createThalassaSecret('db-url', {
      data: [{ key: 'password', path: '/app/url/password' }],
      target: { name: 'db-url-target', template: { data: { url: 'postgres://app:{{ .password }}@db:5432/app' } } },
    });
    await h.waitForReason('web-tls', 'Synced');
    await h.waitForReason('db-url', 'Synced');
    const tls = await h.readSecret('web-tls');
    expect(tls?.type).toBe('kubernetes.io/tls');
    expect(tls?.metadata?.labels).toMatchObject({ app: 'web', 'app.kubernetes.io/managed-by': 'thalassa-secrets-operator', 'secrets.thalassa.cloud/managed': 'true' });
    expect(tls?.metadata?.annotations).toMatchObject({ team: 'edge' });
    expect(tls?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ThalassaSecret', name: 'web-tls', controller: true });
    expect(await h.secretData('db-url-target')).toEqual({ url: 'postgres://app:s3cret@db:5432/app' });
  });

  it('keeps a pinned version and follows the latest one', async () => {
    h.putSecret('/app/pin/value', 'v1');
    h.putSecret('/app/pin/value', 'v2');
    await h.createThalassaSecret('pinned', {
      data: [
        { key: 'old', path: '/app/pin/value', version: 1 },
        { key: 'new', path: '/app/pin/value' },
      ],
    });
    await h.waitForReason('pinned', 'Synced');
    expect(await h.secretData('pinned')).toEqual({ old: 'v1', new: 'v2' });
  });

  it('moves the followed key of a path that another key pins, and records both versions', async () => {
    h.putSecret('/app/pin-follow/value', 'v1');
    h.putSecret('/app/pin-follow/value', 'v2');
    await h.createThalassaSecret('pin-follow', {
      refreshInterval: '1s',
      data: [
        { key: 'pinned', path: '/app/pin-follow/value', version: 2 },
        { key: 'latest', path: '/app/pin-follow/value' },
      ],
    });
    await h.waitForReason('pin-follow', 'Synced');
    h.putSecret('/app/pin-follow/value', 'v3');
    await h.waitForData('pin-follow', { pinned: 'v2', latest: 'v3' });
    const resource = await waitFor(async () => {
      const current = await h.getThalassaSecret('pin-follow');
      return current.status?.syncedVersions?.length === 2 ? current : undefined;
    }, { message: 'status to record both versions' });
    expect(resource.status?.syncedVersions).toEqual([
      { path: '/app/pin-follow/value', version: 2 },
      { path: '/app/pin-follow/value', version: 3 },
    ]);
    expect(resource.status?.conditions?.[0]?.reason).toBe('Synced');
  });

  it('refuses to take over a Secret it did not create, until creationPolicy is Merge', async () => {
    await h.core.createNamespacedSecret({
      namespace: h.namespace,
      body: { metadata: { name: 'app-settings' }, stringData: { existing: 'keep-me' } },
    });
    h.putSecret('/app/smtp/password', 'smtp-pw');
    await h.createThalassaSecret('adopt', { data: [{ key: 'smtp', path: '/app/smtp/password' }], target: { name: 'app-settings' } });
    await h.waitForReason('adopt', 'SecretExists');
    expect(await h.secretData('app-settings')).toEqual({ existing: 'keep-me' });

    await h.patchThalassaSecret('adopt', { spec: { target: { name: 'app-settings', creationPolicy: 'Merge' } } });
    await h.waitForReason('adopt', 'Synced');
    expect(await h.secretData('app-settings')).toEqual({ existing: 'keep-me', smtp: 'smtp-pw' });
    const secret = await h.readSecret('app-settings');
    expect(secret?.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('repairs an edited and a deleted Secret without revealing again', async () => {
    h.putSecret('/app/drift/value', 'original');
    await h.createThalassaSecret('drift', { data: [{ key: 'value', path: '/app/drift/value' }] });
    await h.waitForReason('drift', 'Synced');
    const reveals = h.revealCount();

    const current = await h.readSecret('drift');
    if (!current) throw new Error('the Secret is missing');
    current.data = { value: Buffer.from('tampered').toString('base64') };
    await h.core.replaceNamespacedSecret({ name: 'drift', namespace: h.namespace, body: current });
    await h.waitForData('drift', { value: 'original' });

    await h.core.deleteNamespacedSecret({ name: 'drift', namespace: h.namespace });
    await waitFor(async () => (await h.secretData('drift'))?.['value'] === 'original', { message: 'the deleted Secret to come back' });
    expect(h.revealCount()).toBe(reveals);
  });

  it('does not rewrite status when nothing changed', async () => {
    h.putSecret('/app/noop/value', 'x');
    await h.createThalassaSecret('noop', { data: [{ key: 'value', path: '/app/noop/value' }] });
    const synced = await h.waitForReason('noop', 'Synced');
    h.operator?.queue.add(`${h.namespace}/noop`, 'high');
    await waitFor(() => h.operator?.queue.length === 0 && h.operator.queue.processingCount === 0, { message: 'the queue to drain' });
    const after = await h.getThalassaSecret('noop');
    expect(after.metadata.resourceVersion).toBe(synced.metadata.resourceVersion);
  });

  it('keeps values and tokens out of every output', async () => {
    const outputs = await h.outputs();
    expect(outputs).not.toContain(canary);
    expect(outputs).not.toContain('CANARY-7f3a');
  });
});
