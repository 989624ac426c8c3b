/**
`npm run bench -- --replicas 1,2,3`: sync throughput and failover time of the operator in sharded
mode with 1, 2 and 3 members (docs/scaling.md, and the section at the end of docs/benchmarks.md).

The setting makes the operator, not the API server, the limit: every reveal takes 200 ms at the
emulator (`--latency-ms`, default 200 here) and each store allows 20 Thalassa requests per second
per operator process (its token bucket is per process, as in production: `spec.rateLimit` is what
each replica may send), so one member syncs at most about 20 resources a second whatever the API
server could take. Each run: `--sizes` ThalassaSecrets (default 1,000) in a fresh namespace with the
members already running, seconds from the first create to the last Ready; then, with two members
or more, one member that is not the leader is SIGKILLed, a new version of each of its resources is
published, and the report gives the time until its share was assigned elsewhere and until those
Secrets held the new version.
*/
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ThalassaSecret } from '../src/api/v1alpha1/thalassa-secret.ts';
import type { Emulator } from '../src/emulator/index.ts';
import { shardMemberLabel } from '../src/sharding/labels.ts';
import { startCluster } from '../test/support/cluster.ts';
import { applyCrds } from '../test/support/crds.ts';
import { loadKubeConfig } from '../test/support/kube.ts';
import { OperatorProcess } from '../test/support/operator-process.ts';
import { createResources, deleteNamespaceAndWait, group, log, organisation, prepareNamespace, readyReason, region, startBenchEmulator } from './run.ts';
import { round } from './stats.ts';

export interface ReplicasOptions {
  readonly replicas: readonly number[];
  readonly size: number;
  readonly latencyMs: number;
  readonly storeRequestsPerSecond: number;
  readonly concurrency: number;
  readonly refreshS: number;
}

interface ReplicaRun {
  readonly members: number;
  readonly resources: number;
  readonly syncSeconds: number;
  readonly perSecond: number;
  /** Resources per member once all were Ready. */
  readonly shares: readonly number[];
  readonly failover?: { readonly moved: number; readonly reassignedSeconds: number; readonly rotatedSeconds: number } | undefined;
}

const leaseDurationS = 8;

async function list(kc: KubeConfig, namespace: string): Promise<ThalassaSecret[]> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const answer = (await objects.listNamespacedCustomObject({ group, version: 'v1alpha1', namespace, plural: 'thalassasecrets' })) as { items: ThalassaSecret[] };
  return answer.items;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function runMembers(kc: KubeConfig, kubeconfigPath: string, emulator: Emulator, members: number, options: ReplicasOptions): Promise<ReplicaRun> {
  const namespace = `bench-replicas-${members}-${randomBytes(2).toString('hex')}`;
  const ring = `ring-${randomBytes(3).toString('hex')}`;
  // The store's limit is per operator process: the limit that sharding multiplies.
  const perProcess = { requestsPerSecond: options.storeRequestsPerSecond, burst: options.storeRequestsPerSecond };
  const paths = await prepareNamespace(kc, emulator, namespace, `/bench/replicas-${namespace}/`, options.size, perProcess);
  const names = Array.from({ length: members }, (_, i) => `member-${i}`);
  const processes = await Promise.all(
    names.map(
      async (name) =>
        await OperatorProcess.start({
          kubeconfig: kubeconfigPath,
          command: [process.execPath, join(import.meta.dirname, '..', 'dist', 'main.js')],
          args: [
            `--namespaces=${namespace}`,
            `--leader-election-namespace=${namespace}`,
            `--leader-election-id=${ring}`,
            `--pod-name=${name}`,
            '--shards=true',
            `--lease-duration=${leaseDurationS}s`,
            '--renew-deadline=6s',
            '--retry-period=1s',
            `--concurrency=${options.concurrency}`,
            '--log-level=warn',
          ],
        }),
    ),
  );
  try {
    await Promise.all(processes.map(async (p) => await p.waitReady(120_000)));
    const started = performance.now();
    await createResources(kc, namespace, paths);
    await until(async () => {
      const items = await list(kc, namespace);
      return items.length === options.size && items.every((r) => readyReason(r) === 'Synced');
    }, 900_000, `${options.size} resources Ready with ${members} members`);
    const syncSeconds = (performance.now() - started) / 1000;
    const owners = new Map((await list(kc, namespace)).map((r) => [r.metadata.name, r.metadata.labels?.[shardMemberLabel] ?? '']));
    const shares = names.map((name) => [...owners.values()].filter((o) => o === name).length);
    log(`${members} member(s): ${options.size} Ready in ${round(syncSeconds, 1)} s; shares ${shares.join('/')}`);
    let failover: ReplicaRun['failover'];
    if (members > 1) {
      const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: ring, namespace });
      const victim = names.find((n) => n !== lease.spec?.holderIdentity) ?? '';
      const theirs = [...owners].filter(([, owner]) => owner === victim).map(([name]) => name);
      const killedAt = performance.now();
      processes[names.indexOf(victim)]?.kill('SIGKILL');
      // New versions of the victim's resources: they arrive only once another member owns them.
      const wanted = new Map<string, number>();
      for (const name of theirs) {
        const path = paths[Number(name.slice(2))] ?? '';
        wanted.set(name, emulator.putSecret({ organisation, region, path, secretString: `rotated-${name}` }));
      }
      await until(async () => (await list(kc, namespace)).every((r) => (r.metadata.labels?.[shardMemberLabel] ?? victim) !== victim), 300_000, 'the takeover');
      const reassignedSeconds = (performance.now() - killedAt) / 1000;
      await until(async () => {
        const items = await list(kc, namespace);
        return items.filter((r) => wanted.has(r.metadata.name)).every((r) => r.status?.syncedVersions?.[0]?.version === wanted.get(r.metadata.name));
      }, 600_000, 'the rotation of the moved resources');
      const rotatedSeconds = (performance.now() - killedAt) / 1000;
      failover = { moved: theirs.length, reassignedSeconds: round(reassignedSeconds, 1), rotatedSeconds: round(rotatedSeconds, 1) };
      log(`${members} members: ${theirs.length} resources of ${victim} reassigned ${round(reassignedSeconds, 1)} s after SIGKILL, rotated ${round(rotatedSeconds, 1)} s after`);
    }
    return { members, resources: options.size, syncSeconds: round(syncSeconds, 1), perSecond: round(options.size / syncSeconds, 1), shares, failover };
  } finally {
    await Promise.all(processes.map(async (p) => await p.stop()));
    await deleteNamespaceAndWait(kc, namespace);
  }
}

function markdown(options: ReplicasOptions, runs: readonly ReplicaRun[]): string {
  const lines = [
    `Emulator latency ${options.latencyMs} ms per request, ${options.storeRequestsPerSecond} Thalassa requests/s per store per member, concurrency ${options.concurrency} per member, ${options.size} ThalassaSecrets, lease duration ${leaseDurationS} s.`,
    '',
    '| members | created → all Ready | resources/s | speed-up | shares | failover: share reassigned | failover: new versions synced |',
    '|---|---|---|---|---|---|---|',
  ];
  const base = runs[0]?.perSecond ?? 1;
  for (const run of runs) {
    const failover = run.failover ? [`${run.failover.reassignedSeconds} s (${run.failover.moved} resources)`, `${run.failover.rotatedSeconds} s`] : ['–', '–'];
    lines.push(`| ${run.members} | ${run.syncSeconds} s | ${run.perSecond} | ${round(run.perSecond / base, 2)}× | ${run.shares.join(' / ')} | ${failover.join(' | ')} |`);
  }
  return lines.join('\n');
}

export async function runReplicas(options: ReplicasOptions): Promise<void> {
  const cluster = await startCluster();
  const emulator = await startBenchEmulator();
  emulator.setFaults({ latency: { fixedMs: options.latencyMs } });
  try {
    const kc = loadKubeConfig(cluster.kubeconfigPath);
    await applyCrds(kc);
    const runs: ReplicaRun[] = [];
    for (const members of options.replicas) runs.push(await runMembers(kc, cluster.kubeconfigPath, emulator, members, options));
    const report = { date: new Date().toISOString(), settings: { ...options, leaseDurationS }, runs };
    mkdirSync('reports', { recursive: true });
    writeFileSync(join('reports', 'bench-replicas.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${markdown(options, runs)}\n`);
  } finally {
    await emulator.stop();
    await cluster.stop();
  }
}
