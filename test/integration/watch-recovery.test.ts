import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { controlPlaneCommand } from '../support/cluster.ts';
import { waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

describe('watches across API server restarts', () => {
  let h: OperatorHarness;

  beforeAll(async () => {
    h = await OperatorHarness.start();
  });

  afterAll(async () => {
    await h.stop();
  });

  it('keeps syncing after kube-apiserver restarts, and sees what changed while its history was compacted', async ({ skip }) => {
    const adminUrl = inject('controlPlaneAdminUrl');
    if (!adminUrl) skip('needs the local control plane, which the tests can restart');
    h.putSecret('/recovery/before', 'before');
    await h.createThalassaSecret('before', { data: [{ key: 'v', path: '/recovery/before' }] });
    await h.waitForReason('before', 'Synced');

    await controlPlaneCommand(adminUrl, '/restart-apiserver', { downMs: '2000' });
    h.putSecret('/recovery/after', 'after');
    await h.createThalassaSecret('after', { data: [{ key: 'v', path: '/recovery/after' }] });
    await h.waitForReason('after', 'Synced', 60_000);
    await h.deleteSecret('before');
    await waitFor(async () => (await h.secretData('before'))?.['v'] === 'before', { timeoutMs: 60_000, message: 'the deleted Secret to be restored' });

    // Compact etcd's history, then restart: watches resuming from old versions get 410 and must list again.
    await controlPlaneCommand(adminUrl, '/compact-etcd');
    await controlPlaneCommand(adminUrl, '/restart-apiserver', { downMs: '1000' });
    h.putSecret('/recovery/expired', 'expired');
    await h.createThalassaSecret('expired', { data: [{ key: 'v', path: '/recovery/expired' }] });
    await h.waitForReason('expired', 'Synced', 60_000);
    expect(await h.secretData('expired')).toEqual({ v: 'expired' });
  });
});
