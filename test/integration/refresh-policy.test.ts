import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { retryTransient, waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';

function requests(h: OperatorHarness, operation: 'list' | 'get' | 'reveal'): number {
  return Object.values(h.emulator.counters().byOperation[operation]).reduce((a, b) => a + b, 0);
}

/** Someone edits the Secret's data by hand. */
async function tamper(h: OperatorHarness, name: string, key: string): Promise<void> {
  await retryTransient(() =>
    h.core.patchNamespacedSecret(
      { name, namespace: h.namespace, body: { data: { [key]: Buffer.from('tampered').toString('base64') } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
}

/** Waits until the operator has nothing queued or running: every event so far has been handled. */
async function settled(h: OperatorHarness): Promise<void> {
  await waitFor(async () => await Promise.resolve(h.operator?.queue.length === 0 && h.operator.queue.processingCount === 0), {
    message: 'the operator to be idle',
  });
}

describe('refreshPolicy', () => {
  let h: OperatorHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('refuses an unknown refreshPolicy at admission', async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    await expect(h.createThalassaSecret('unknown', { refreshPolicy: 'Sometimes' as 'Periodic', data: [{ key: 'v', path: '/x' }] })).rejects.toThrow(
      /refreshPolicy.*Unsupported value|Unsupported value.*Sometimes/s,
    );
  });

  it('OnChange: never polls; repairs an edit with the held version; takes new versions on force-sync and spec change', async () => {
    h = await OperatorHarness.start();
    const harness = h;
    h.putSecret('/onchange/password', 'v1');
    // A short interval that OnChange must ignore.
    await h.createThalassaSecret('onchange', { refreshPolicy: 'OnChange', refreshInterval: '1s', data: [{ key: 'password', path: '/onchange/password' }] });
    await h.waitForReason('onchange', 'Synced');
    expect(await h.secretData('onchange')).toEqual({ password: 'v1' });

    h.emulator.resetCounters();
    h.putSecret('/onchange/password', 'v2');
    // Several refresh intervals pass: nothing is asked of Thalassa at all, and v2 stays out.
    await sleep(3500);
    expect(h.emulator.counters().total).toBe(0);
    expect(await h.secretData('onchange')).toEqual({ password: 'v1' });

    // An edit is repaired with the version the Secret held, from memory: no reveal, no poll.
    await tamper(h, 'onchange', 'password');
    await h.waitForData('onchange', { password: 'v1' });
    // A deleted Secret comes back with that version too.
    await h.deleteSecret('onchange');
    await waitFor(async () => (await harness.readSecret('onchange')) !== undefined, { message: 'the Secret to be created again' });
    await h.waitForData('onchange', { password: 'v1' });
    expect(h.emulator.counters().total).toBe(0);

    // A force-sync checks versions and takes v2.
    await h.patchThalassaSecret('onchange', { metadata: { annotations: { [forceSyncAnnotation]: 'now' } } });
    await h.waitForData('onchange', { password: 'v2' });
    expect(requests(h, 'get')).toBeGreaterThan(0);
    expect((await h.getThalassaSecret('onchange')).status?.syncedVersions).toEqual([{ path: '/onchange/password', version: 2 }]);

    // A spec change takes the current version too, even though nothing polled it.
    h.putSecret('/onchange/password', 'v3');
    await sleep(1500);
    expect(await h.secretData('onchange')).toEqual({ password: 'v2' });
    await h.patchThalassaSecret('onchange', { spec: { target: { labels: { team: 'payments' } } } });
    await h.waitForData('onchange', { password: 'v3' });
    expect((await h.readSecret('onchange'))?.metadata?.labels?.['team']).toBe('payments');

    // After that, still no polling, and an edit is repaired with v3 (not a newer one).
    h.putSecret('/onchange/password', 'v4');
    h.emulator.resetCounters();
    await tamper(h, 'onchange', 'password');
    await h.waitForData('onchange', { password: 'v3' });
    await sleep(2500);
    expect(h.emulator.counters().total).toBe(0);
    expect(await h.secretData('onchange')).toEqual({ password: 'v3' });
  });

  it('OnChange survives an operator restart without taking a new version', async () => {
    h = await OperatorHarness.start();
    h.putSecret('/onchange-restart/password', 'v1');
    await h.createThalassaSecret('restarted', { refreshPolicy: 'OnChange', data: [{ key: 'password', path: '/onchange-restart/password' }] });
    await h.waitForReason('restarted', 'Synced');
    h.putSecret('/onchange-restart/password', 'v2');
    await h.stopOperator();
    h.emulator.resetCounters();
    await h.startOperator();
    await settled(h);
    await sleep(1500);
    expect(await h.secretData('restarted')).toEqual({ password: 'v1' });
    expect(h.emulator.counters().total).toBe(0);
  });

  it('CreatedOnce: writes the Secret once, never again (new version, force-sync, spec change, edit); a deleted Secret is created again', async () => {
    h = await OperatorHarness.start();
    const harness = h;
    h.putSecret('/once/password', 'v1');
    await h.createThalassaSecret('once', { refreshPolicy: 'CreatedOnce', refreshInterval: '1s', data: [{ key: 'password', path: '/once/password' }] });
    await h.waitForReason('once', 'Synced');
    expect(await h.secretData('once')).toEqual({ password: 'v1' });

    h.emulator.resetCounters();
    h.putSecret('/once/password', 'v2');
    await h.patchThalassaSecret('once', { metadata: { annotations: { [forceSyncAnnotation]: 'now' } } });
    await h.patchThalassaSecret('once', { spec: { target: { labels: { team: 'payments' } } } });
    await h.waitForReason('once', 'Synced');
    await tamper(h, 'once', 'password');
    const edited = await h.readSecret('once');
    await sleep(3000);
    await settled(h);
    const after = await h.readSecret('once');
    expect(after?.metadata?.resourceVersion).toBe(edited?.metadata?.resourceVersion);
    expect(await h.secretData('once')).toEqual({ password: 'tampered' });
    expect(after?.metadata?.labels?.['team']).toBeUndefined();
    // Not polled, not even for the force-sync.
    expect(h.emulator.counters().total).toBe(0);
    const ready = (await h.getThalassaSecret('once')).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).toContain('refreshPolicy CreatedOnce');

    // Deleting the Secret is the way to a new version: it is created again, with the current one.
    await h.deleteSecret('once');
    await waitFor(async () => (await harness.readSecret('once')) !== undefined, { message: 'the Secret to be created again' });
    await h.waitForData('once', { password: 'v2' });
    expect((await h.readSecret('once'))?.metadata?.labels?.['team']).toBe('payments');
  });
});
