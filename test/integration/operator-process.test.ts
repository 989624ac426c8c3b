import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { forceSyncAnnotation } from '../../src/controllers/thalassa-secret-controller.ts';
import { restartAnnotation } from '../../src/controllers/rollout-restarter.ts';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { uniqueName, waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';
import { OperatorProcess, sumMetric } from '../support/operator-process.ts';

describe('the operator process', () => {
  let h: OperatorHarness;
  const processes: OperatorProcess[] = [];
  const leaseName = uniqueName('lease');

  function start(name: string, extra: string[] = []): Promise<OperatorProcess> {
    return OperatorProcess.start({
      kubeconfig: inject('kubeconfigPath'),
      args: [
        `--namespaces=${h.namespace}`,
        `--leader-election-namespace=${h.namespace}`,
        `--leader-election-id=${leaseName}`,
        `--pod-name=${name}`,
        '--lease-duration=4s',
        '--renew-deadline=3s',
        '--retry-period=1s',
        '--restart-coalesce=1s',
        '--log-level=debug',
        ...extra,
      ],
    }).then((p) => {
      processes.push(p);
      return p;
    });
  }

  async function holder(): Promise<string | undefined> {
    const lease = await h.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: leaseName, namespace: h.namespace });
    return lease.spec?.holderIdentity;
  }

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
  });

  afterAll(async () => {
    await Promise.all(processes.map(async (p) => await p.stop()));
    await h.stop();
  });

  it.for([
    [['--concurrency=0'], '--concurrency'],
    [['--lease-duration=soon'], '--lease-duration'],
    [['--log-level=loud'], '--log-level'],
    [['--metrics-address=8080'], '--metrics-address'],
    [['--no-such-flag=1'], 'no-such-flag'],
    [['--lease-duration=2s', '--renew-deadline=3s'], '--lease-duration > --renew-deadline'],
  ] as const)('exits non-zero on %s, naming the setting', async ([args, named]) => {
    const { code, output } = await OperatorProcess.runToExit(args);
    expect(code).toBe(2);
    expect(output).toContain(named);
  });

  it('names the environment variable when that is what is wrong', async () => {
    const { code, output } = await OperatorProcess.runToExit([], { CONCURRENCY: 'many' });
    expect(code).toBe(2);
    expect(output).toContain('CONCURRENCY="many"');
  });

  it('runs the controllers on the leader only, hands over on SIGKILL without replaying restarts, and releases on SIGTERM', async () => {
    const apps = h.kc.makeApiClient(AppsV1Api);
    await h.createDeployment('api');
    const a = await start('operator-a');
    await waitFor(async () => (await holder().catch(() => undefined)) === 'operator-a', { message: 'operator-a to lead' });
    const b = await start('operator-b');
    await a.waitReady();
    await b.waitReady();
    expect((await b.readyz()).body.leader).toBe(false);

    h.putSecret('/process/password', 'one');
    await h.createThalassaSecret('rotating', { data: [{ key: 'password', path: '/process/password' }], rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }] });
    await h.waitForReason('rotating', 'Synced', 60_000);
    h.putSecret('/process/password', 'two');
    await h.patchThalassaSecret('rotating', { metadata: { annotations: { [forceSyncAnnotation]: '1' } } });
    await h.waitForData('rotating', { password: 'two' });
    const resource: ThalassaSecret = await h.getThalassaSecret('rotating');
    const annotation = restartAnnotation(resource);
    const restarted = await waitFor(
      async () => {
        const deployment = await apps.readNamespacedDeployment({ name: 'api', namespace: h.namespace });
        return deployment.spec?.template.metadata?.annotations?.[annotation] ? deployment : undefined;
      },
      { message: 'the Deployment to be restarted once' },
    );
    expect(await b.metric('controller_runtime_reconcile_total')).toBe(0);
    expect(await a.metric('controller_runtime_reconcile_total')).toBeGreaterThan(0);
    expect(await a.metric('leader_election_master_status')).toBe(1);
    expect(await b.metric('leader_election_master_status')).toBe(0);

    a.kill('SIGKILL');
    await waitFor(async () => (await holder()) === 'operator-b', { timeoutMs: 30_000, message: 'operator-b to take over' });
    await waitFor(async () => (await b.metric('controller_runtime_reconcile_total')) > 0, { message: 'the new leader to reconcile' });
    await waitFor(async () => (await b.readyz()).body.synced === true, { message: 'the new leader to sync' });
    const after = await apps.readNamespacedDeployment({ name: 'api', namespace: h.namespace });
    expect(after.metadata?.generation).toBe(restarted.metadata?.generation);
    expect(await b.metric('thalassa_rollout_restarts_total')).toBe(0);
    expect(await b.metric('thalassa_secret_reveals_total')).toBe(0);

    b.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
    expect(await holder()).toBe('');
    expect(b.output.some((line) => line.includes('released the lease'))).toBe(true);
  });

  it('exposes metrics that move as syncs happen', async () => {
    const c = await start('operator-c');
    await waitFor(async () => (await holder()) === 'operator-c', { message: 'operator-c to lead' });
    await c.waitReady();
    const before = await c.metrics();
    h.putSecret('/process/metrics', 'm');
    await h.createThalassaSecret('metrics', { data: [{ key: 'm', path: '/process/metrics' }] });
    await h.waitForReason('metrics', 'Synced');
    await waitFor(async () => sumMetric(await c.metrics(), 'thalassa_secret_writes_total', { kind: 'create' }) > sumMetric(before, 'thalassa_secret_writes_total', { kind: 'create' }), {
      message: 'the write counter to move',
    });
    const text = await c.metrics();
    expect(sumMetric(text, 'thalassa_api_requests_total', { operation: 'reveal', status: '200' })).toBeGreaterThan(0);
    expect(sumMetric(text, 'controller_runtime_reconcile_total', { controller: 'thalassasecret', result: 'success' })).toBeGreaterThan(0);
    expect(sumMetric(text, 'workqueue_adds_total', { name: 'thalassasecret' })).toBeGreaterThan(0);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain('CANARY');
  });
});
