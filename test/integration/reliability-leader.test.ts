import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { restartAnnotation } from '../../src/controllers/rollout-restarter.ts';
import { rolloutDueAnnotation, syncedVersionsAnnotation } from '../../src/controllers/secret-metadata.ts';
import { uniqueName, waitFor } from '../support/kube.ts';
import { OperatorHarness, operatorToken } from '../support/operator-harness.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { RecordingProxy, type ProxiedRequest } from '../support/recording-proxy.ts';
import { readyOf, SecretHistory, waitForAll } from '../support/reliability.ts';

/**
Two replicas with leader election, the leader lost in the middle of a large sync. Each replica
talks to the API server through its own recording proxy, so every write is known by who sent it
and when: the test checks that the two replicas' writes never overlap in time (all of the old
leader's before the new leader took the lease, all of the new leader's after), that the standby
does nothing while it stands by, and that the new leader replays no workload restart.
*/

const canary = 'CANARY-LEADER-6d02';

/** A write to something other than the Lease: a Secret, a status, an Event, a Deployment. */
const isWrite = (r: ProxiedRequest) => r.method !== 'GET' && !r.url.includes('/leases');
const isLeaseWin = (r: ProxiedRequest) => r.method !== 'GET' && r.url.includes('/leases') && (r.status === 200 || r.status === 201);

describe('leader failover under load', () => {
  let h: OperatorHarness;
  let dir: string;
  const processes: OperatorProcess[] = [];
  const proxies: RecordingProxy[] = [];

  beforeAll(async () => {
    h = await OperatorHarness.start({ withoutOperator: true });
    dir = mkdtempSync(join(tmpdir(), 'reliability-leader-'));
    // Each reveal takes a while, so that the sync is still going when the leader goes.
    h.emulator.setFaults({ latency: { fixedMs: 150, operations: ['reveal'] } });
  });

  afterAll(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGCONT');
    }
    await Promise.all(processes.map(async (p) => await p.stop()));
    await Promise.all(proxies.map(async (p) => await p.stop()));
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function replica(name: string, lease: string): Promise<{ process: OperatorProcess; proxy: RecordingProxy }> {
    const { proxy, kubeconfig } = await RecordingProxy.forKubeApi(inject('kubeconfigPath'), dir, name);
    proxies.push(proxy);
    const process = await OperatorProcess.start({
      kubeconfig,
      args: [
        `--namespaces=${h.namespace}`,
        `--leader-election-namespace=${h.namespace}`,
        `--leader-election-id=${lease}`,
        `--pod-name=${name}`,
        '--lease-duration=4s',
        '--renew-deadline=3s',
        '--retry-period=1s',
        '--restart-coalesce=1s',
        '--thalassa-qps=1000',
        '--thalassa-burst=1000',
        '--log-level=info',
      ],
    });
    processes.push(process);
    return { process, proxy };
  }

  async function holder(lease: string): Promise<string | undefined> {
    const object = await h.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: lease, namespace: h.namespace });
    return object.spec?.holderIdentity;
  }

  async function createResources(prefix: string, count: number, extra: (i: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    for (const [i, name] of names.entries()) h.putSecret(`/${prefix}/g${i % 6}/${name}`, `${name}-${canary}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (name, j) => {
          await h.createThalassaSecret(name, { refreshInterval: '2s', data: [{ key: 'value', path: `/${prefix}/g${(i + j) % 6}/${name}` }], ...extra(i + j) });
        }),
      );
    }
    return names;
  }

  /** Writes of the old leader end before the new one took the lease; the new one's begin after. */
  function expectNoOverlap(old: RecordingProxy, successor: RecordingProxy, since: number): number {
    const takeover = successor.requests.find((r) => r.at >= since && isLeaseWin(r))?.at;
    if (takeover === undefined) throw new Error('the successor never took the lease');
    const lateOld = old.requests.filter((r) => isWrite(r) && r.at >= takeover);
    expect(lateOld.map((r) => `${r.method} ${r.url}`), 'writes of the old leader after the takeover').toEqual([]);
    const earlyNew = successor.requests.filter((r) => isWrite(r) && r.at < takeover);
    expect(earlyNew.map((r) => `${r.method} ${r.url}`), 'writes of the new leader before the takeover').toEqual([]);
    expect(successor.requests.filter(isWrite).length, 'the new leader wrote').toBeGreaterThan(0);
    return takeover;
  }

  it('hands over a SIGKILLed leader mid-sync: no overlapping writes, an idle standby, no replayed restart', { timeout: 240_000 }, async () => {
    const lease = uniqueName('failover');
    const apps = h.kc.makeApiClient(AppsV1Api);
    await h.createDeployment('api');
    // Five resources restart the Deployment; they sync and rotate once before the failover.
    const restarting = await createResources('restart', 5, () => ({ rolloutRestartTargets: [{ kind: 'Deployment', name: 'api' }] }));
    const a = await replica('replica-a', lease);
    await waitFor(async () => (await holder(lease).catch(() => undefined)) === 'replica-a', { message: 'replica-a to lead' });
    const b = await replica('replica-b', lease);
    await b.process.waitReady();
    await waitForAll(h, 5, (r) => readyOf(r).reason === 'Synced');
    for (const [i, name] of restarting.entries()) h.putSecret(`/restart/g${i % 6}/${name}`, `${name}-2-${canary}`);
    await waitFor(
      async () => {
        const secrets = await Promise.all(restarting.map(async (name) => await h.readSecret(name)));
        return secrets.every((s) => s !== undefined && s.metadata?.annotations?.[rolloutDueAnnotation] === undefined && s.metadata?.annotations?.[syncedVersionsAnnotation]?.endsWith('=2'));
      },
      { timeoutMs: 60_000, message: 'the rotation and its restarts (by replica-a)' },
    );
    const restartedGeneration = (await apps.readNamespacedDeployment({ name: 'api', namespace: h.namespace })).metadata?.generation;

    // The load: 300 more, and the leader dies a third of the way through.
    const history = new SecretHistory(h.kc, h.namespace);
    const load = await createResources('load', 300);
    await waitFor(() => new Set(history.events.filter((e) => e.name.startsWith('load-')).map((e) => e.name)).size >= 100, {
      timeoutMs: 60_000,
      message: 'a third of the load to be written',
    });
    expect(await b.process.metric('controller_runtime_reconcile_total'), 'the standby reconciled nothing').toBe(0);
    expect(await b.process.metric('thalassa_secret_writes_total')).toBe(0);
    expect(b.proxy.requests.filter(isWrite), 'the standby wrote nothing').toEqual([]);
    const killedAt = Date.now();
    a.process.kill('SIGKILL');
    await a.process.exited;
    await waitFor(async () => (await holder(lease)) === 'replica-b', { timeoutMs: 30_000, message: 'replica-b to take over' });
    await waitForAll(h, restarting.length + load.length, (r) => readyOf(r).current && readyOf(r).reason === 'Synced', { what: 'the load to finish under replica-b' });
    history.stop();

    expectNoOverlap(a.proxy, b.proxy, killedAt);
    expect(history.events.filter((e) => e.type === 'DELETED')).toEqual([]);
    // Nothing was restarted again by the new leader.
    const deployment = await apps.readNamespacedDeployment({ name: 'api', namespace: h.namespace });
    expect(deployment.metadata?.generation).toBe(restartedGeneration);
    const resource = await h.getThalassaSecret(restarting[0] ?? '');
    expect(deployment.spec?.template.metadata?.annotations?.[restartAnnotation(resource)]).toBeDefined();
    expect(await b.process.metric('thalassa_rollout_restarts_total')).toBe(0);
  });

  it('fences a leader that froze (SIGSTOP) and wakes up after the lease passed to another: it writes nothing more', { timeout: 240_000 }, async () => {
    // The replicas of the test before lead another lease in the same namespace: one still running
    // would sync the load itself, and leave the new leader here nothing to write.
    await Promise.all(processes.map(async (p) => await p.stop()));
    const lease = uniqueName('frozen');
    const c = await replica('replica-c', lease);
    await waitFor(async () => (await holder(lease).catch(() => undefined)) === 'replica-c', { message: 'replica-c to lead' });
    const d = await replica('replica-d', lease);
    await d.process.waitReady();
    await waitForAll(h, 305, (r) => readyOf(r).reason === 'Synced', { what: 'replica-c to catch up' });
    // Slow reveals: when it freezes, every worker of replica-c waits for one, and the answers
    // arrive while it is frozen.
    h.emulator.setFaults({ latency: { fixedMs: 600, operations: ['reveal'] } });
    const load = await createResources('frozen', 200);
    await waitFor(() => c.proxy.requests.filter((r) => isWrite(r) && r.url.includes('/secrets')).length >= 20, {
      timeoutMs: 60_000,
      message: 'replica-c to be writing the new load',
    });
    // Frozen mid-sync: no renewals, requests in flight, reconciles half-way.
    const frozenAt = Date.now();
    c.process.kill('SIGSTOP');
    h.emulator.setFaults({ latency: { fixedMs: 150, operations: ['reveal'] } });
    await waitFor(async () => (await holder(lease)) === 'replica-d', { timeoutMs: 30_000, message: 'replica-d to take over from the frozen leader' });
    await waitFor(() => d.proxy.requests.some((r) => isWrite(r) && r.at > frozenAt), {
      timeoutMs: 30_000,
      message: () => `replica-d to write; it printed:\n${d.process.output.slice(-15).join('\n')}`,
    });
    c.process.kill('SIGCONT');
    const exit = await c.process.exited;
    expect(exit.code, 'the woken leader exits: it lost the lease').toBe(1);
    expectNoOverlap(c.proxy, d.proxy, frozenAt);
    await waitForAll(h, 305 + load.length, (r) => readyOf(r).current && readyOf(r).reason === 'Synced', { what: 'the load to finish under replica-d' });
  });

  it('keeps values and the token out of Events, statuses and what the replicas printed', async () => {
    const outputs = [await h.outputs(), ...processes.map((p) => p.output.join('\n'))].join('\n');
    expect(outputs).not.toContain(canary);
    expect(outputs).not.toContain(operatorToken);
  });
});
