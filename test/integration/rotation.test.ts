import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { restartAnnotation } from '../../src/controllers/rollout-restarter.ts';
import { waitFor } from '../support/kube.ts';
import { OperatorHarness, organisation, region } from '../support/operator-harness.ts';

function requests(h: OperatorHarness, operation: 'list' | 'get' | 'reveal'): number {
  return Object.values(h.emulator.counters().byOperation[operation]).reduce((a, b) => a + b, 0);
}

describe('rotation', () => {
  let h: OperatorHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('brings a new version into the Secret within the refresh interval', async () => {
    h = await OperatorHarness.start();
    h.putSecret('/rotate/password', 'v1');
    await h.createThalassaSecret('follows', { refreshInterval: '2s', data: [{ key: 'password', path: '/rotate/password' }] });
    await h.waitForReason('follows', 'Synced');
    h.putSecret('/rotate/password', 'v2');
    await h.waitForData('follows', { password: 'v2' });
    const resource = await h.getThalassaSecret('follows');
    expect(resource.status?.syncedVersions).toEqual([{ path: '/rotate/password', version: 2 }]);
    expect(await h.metrics.rotations.get().then((m) => m.values[0]?.value)).toBe(1);
  });

  it('never polls a pinned version, and keeps it', async () => {
    h = await OperatorHarness.start();
    h.putSecret('/rotate/pinned', 'v1');
    await h.createThalassaSecret('pinned', { refreshInterval: '1s', data: [{ key: 'value', path: '/rotate/pinned', version: 1 }] });
    await h.waitForReason('pinned', 'Synced');
    h.emulator.resetCounters();
    h.putSecret('/rotate/pinned', 'v2');
    // Several refresh intervals pass: a pinned resource is not polled, so nothing is asked at all.
    await sleep(3500);
    expect(h.emulator.counters().total).toBe(0);
    expect(await h.secretData('pinned')).toEqual({ value: 'v1' });
  });

  it('keeps the last good Secret when the latest version is destroyed, found by polling', async () => {
    h = await OperatorHarness.start();
    h.putSecret('/rotate/destroyed', 'v1');
    h.putSecret('/rotate/destroyed', 'v2');
    await h.createThalassaSecret('destroyed', { refreshInterval: '1s', data: [{ key: 'value', path: '/rotate/destroyed' }] });
    await h.waitForReason('destroyed', 'Synced');
    h.emulator.destroyVersion({ organisation, region, path: '/rotate/destroyed', version: 2 });
    const resource = await h.waitForReason('destroyed', 'VersionDestroyed');
    expect(resource.status?.conditions?.[0]?.message).toContain('version 2 of /rotate/destroyed was destroyed');
    expect(await h.secretData('destroyed')).toEqual({ value: 'v2' });
  });

  it('costs a couple of lists per interval and no reveal for 200 unchanged resources under one prefix', async () => {
    h = await OperatorHarness.start({ operator: { concurrency: 16 } });
    const harness = h;
    const names = Array.from({ length: 200 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (const name of names) harness.putSecret(`/bulk/${name}`, `value-${name}`);
    await Promise.all(names.map(async (name) => await harness.createThalassaSecret(name, { refreshInterval: '2s', data: [{ key: 'v', path: `/bulk/${name}` }] })));
    await waitFor(
      async () => {
        const list = (await harness.objects.listNamespacedCustomObject({ group: 'secrets.thalassa.cloud', version: 'v1alpha1', namespace: harness.namespace, plural: 'thalassasecrets' })) as {
          items: { status?: { conditions?: { reason: string }[] } }[];
        };
        return list.items.filter((r) => r.status?.conditions?.[0]?.reason === 'Synced').length === names.length;
      },
      { timeoutMs: 120_000, message: 'all 200 resources to be Synced' },
    );
    harness.emulator.resetCounters();
    const windowMs = 10_000;
    await sleep(windowMs);
    const intervals = windowMs / 2000;
    expect(requests(harness, 'reveal')).toBe(0);
    expect(requests(harness, 'get')).toBe(0);
    // One list of /bulk/ per interval; one more may fall on the window's edges.
    expect(requests(harness, 'list')).toBeLessThanOrEqual(intervals + 1);
    expect(requests(harness, 'list')).toBeGreaterThanOrEqual(intervals - 1);
  });

  it('restarts a workload once per content change, never on the first sync, never again after an operator restart', async () => {
    h = await OperatorHarness.start({ operator: { restartCoalesceMs: 4000 } });
    const harness = h;
    const apps = harness.kc.makeApiClient(AppsV1Api);
    await harness.createDeployment('api');
    const deployment = async (): Promise<V1Deployment> => await apps.readNamespacedDeployment({ name: 'api', namespace: harness.namespace });
    const restartDone = async () =>
      await waitFor(async () => (await harness.readSecret('restarts'))?.metadata?.annotations?.['secrets.thalassa.cloud/rollout-due'] === undefined, {
        message: 'the pending restart to be done',
      });
    harness.putSecret('/restart/password', 'v1');
    await harness.createThalassaSecret('restarts', {
      refreshInterval: '1s',
      data: [{ key: 'password', path: '/restart/password' }],
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }],
    });
    await harness.waitForReason('restarts', 'Synced');
    const annotation = restartAnnotation(await harness.getThalassaSecret('restarts'));
    const initial = await deployment();
    expect(initial.spec?.template.metadata?.annotations?.[annotation]).toBeUndefined();

    harness.putSecret('/restart/password', 'v2');
    await harness.waitForData('restarts', { password: 'v2' });
    await restartDone();
    const first = await deployment();
    expect(first.metadata?.generation).toBe((initial.metadata?.generation ?? 0) + 1);
    expect(first.spec?.template.metadata?.annotations?.[annotation]).toBeDefined();

    // Two rotations inside one coalescing window: one restart, with the final content.
    harness.putSecret('/restart/password', 'v3');
    await harness.waitForData('restarts', { password: 'v3' });
    harness.putSecret('/restart/password', 'v4');
    await harness.waitForData('restarts', { password: 'v4' });
    await restartDone();
    const second = await deployment();
    expect(second.metadata?.generation).toBe((initial.metadata?.generation ?? 0) + 2);
    expect(second.spec?.template.metadata?.annotations?.[annotation]).not.toBe(first.spec?.template.metadata?.annotations?.[annotation]);

    // A restarted operator re-reads everything and restarts nothing.
    await harness.stopOperator();
    await harness.startOperator();
    await harness.patchThalassaSecret('restarts', { metadata: { annotations: { [forceSyncAnnotation]: 'after-restart' } } });
    await waitFor(async () => await (harness.operator?.queue.length === 0 && harness.operator.queue.processingCount === 0 && harness.metrics.reconcileTotal.get().then((m) => m.values.length > 0)), {
      message: 'the restarted operator to reconcile',
    });
    await sleep(2000);
    expect((await deployment()).metadata?.generation).toBe(second.metadata?.generation);
    // The two restarts are one aggregated Event with a count of 2.
    const restarts = (await harness.events()).filter((e) => e.startsWith('Normal RolloutRestartTriggered restarted Deployment/api'));
    expect(restarts).toEqual([expect.stringContaining('(x2)')]);
  });

  it('checks versions at once when the force-sync annotation changes, even with refresh off', async () => {
    h = await OperatorHarness.start();
    h.putSecret('/rotate/forced', 'v1');
    await h.createThalassaSecret('forced', { refreshInterval: '0', data: [{ key: 'value', path: '/rotate/forced' }] });
    await h.waitForReason('forced', 'Synced');
    h.putSecret('/rotate/forced', 'v2');
    await sleep(1500);
    expect(await h.secretData('forced')).toEqual({ value: 'v1' });
    await h.patchThalassaSecret('forced', { metadata: { annotations: { [forceSyncAnnotation]: 'now' } } });
    await h.waitForData('forced', { value: 'v2' });
  });
});
