/**
`npm run bench`: the operator at scale against the local control plane and the emulator, with
every figure next to a baseline measured in the same run. Writes reports/bench.json and a markdown
table; `--write-docs` also writes docs/benchmarks.md.

  npm run bench -- [--quick] [--sizes 1000,5000,10000] [--latency-ms 20] [--concurrency 32]
                   [--refresh-interval-s 10] [--memory-limit 512Mi|chart|none]
                   [--out reports/bench.json] [--write-docs]
  npm run bench -- --peer eso [--sizes ...] [--refresh-interval-s 30] [--write-docs]
  npm run bench -- --replicas 1,2,3 [--sizes 1000] [--latency-ms 200]   (bench/replicas.ts)

It starts the local control plane (or uses KUBECONFIG with THALASSA_TEST_CLUSTER=existing). The
operator runs in a memory cgroup with the chart's default limit (bench/memory-limit.ts), as a
user's pod does; where no cgroup can be made (not root) it runs unlimited and the report says so.
`--peer eso` measures External Secrets Operator and this operator side by side instead
(bench/peer-eso.ts), reusing the helpers this module exports.
*/
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { ThalassaSecret } from '../src/api/v1alpha1/thalassa-secret.ts';
import { syncedVersionsAnnotation, managedSecretSelector, parseSyncedVersions } from '../src/controllers/secret-metadata.ts';
import { startEmulator, type Emulator } from '../src/emulator/index.ts';
import { kubeconfigConnection } from '../src/kube/connection.ts';
import { Informer } from '../src/kube/informer.ts';
import { KubeClient } from '../src/kube/kube-client.ts';
import type { KubeObject } from '../src/kube/list-watch.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startCluster } from '../test/support/cluster.ts';
import { applyCrds } from '../test/support/crds.ts';
import { loadKubeConfig } from '../test/support/kube.ts';
import { OperatorProcess, sumMetric } from '../test/support/operator-process.ts';
import { apiServerWrites, totalWrites, writesBetween, type WriteCounts } from '../test/support/apiserver-writes.ts';
import { imageEnvironment } from './image-env.ts';
import { chartMemoryLimit, MemoryCgroup, quantityBytes } from './memory-limit.ts';
import { machineDescription, markdownReport, type BenchReport, type SizeResult } from './report.ts';
import { cpuSeconds, memoryOf, mib, PeakRss, percentile, round, runLimited } from './stats.ts';

export const group = 'secrets.thalassa.cloud';
export const organisation = 'org-bench';
export const region = 'nl-01';
export const token = 'bench-operator-token';
export const valueBytes = 4096;
export const quietLogger = createLogger({ level: 'silent' });

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    'latency-ms': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    // 10 s by default; 30 s with --peer (the refresh interval of the side-by-side runs).
    'refresh-interval-s': { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
    out: { type: 'string' },
    'node-options': { type: 'string', default: '' },
    // The chart's default `resources.limits.memory` unless told otherwise; `none` runs unlimited.
    'memory-limit': { type: 'string', default: 'chart' },
    peer: { type: 'string' },
    replicas: { type: 'string' },
  },
});
export const sizes = (args.sizes ?? (args.quick ? '100' : '1000,5000,10000')).split(',').map(Number);
export const latencyMs = Number(args['latency-ms']);
export const concurrency = Number(args.concurrency);
export const refreshS = Number(args['refresh-interval-s'] ?? (args.peer === undefined ? '10' : '30'));
export const writeDocs = args['write-docs'];
/** How long the operator is left alone before its memory at rest is read: past the value cache's 2 minutes' retention and its sweep. */
const restS = args.quick ? 5 : 160;
export const outPath = args.out ?? join('reports', args.peer === undefined ? 'bench.json' : `bench-peer-${args.peer}.json`);
export const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

export function value(): string {
  return randomBytes(valueBytes * 0.75).toString('base64').slice(0, valueBytes);
}

/** The raw server-side-apply throughput of this API server: N Secrets of the same size, same concurrency. */
async function rawApplyThroughput(kc: KubeConfig, n: number): Promise<{ perSecond: number; namespace: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `bench-raw-${n}-${randomBytes(2).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const names = Array.from({ length: n }, (_, i) => `raw-${i}`);
  const started = performance.now();
  await runLimited(names, concurrency, async (name) => {
    await core.patchNamespacedSecret(
      {
        name,
        namespace,
        fieldManager: 'bench',
        force: true,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: { value: Buffer.from(value()).toString('base64') } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  });
  return { perSecond: n / ((performance.now() - started) / 1000), namespace };
}

export function readyReason(resource: ThalassaSecret): string | undefined {
  return resource.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
}

/** `n` secrets of `valueBytes` in the emulator under `prefix`: `{prefix}s-00000`, ... */
export function seedSecrets(emulator: Emulator, prefix: string, n: number): string[] {
  const paths = Array.from({ length: n }, (_, i) => `${prefix}s-${String(i).padStart(5, '0')}`);
  for (const path of paths) emulator.putSecret({ organisation, region, path, secretString: value() });
  return paths;
}

/**
A namespace with the token Secret and a store on the emulator, and `n` secrets in the emulator under
`prefix`. The store's rate limit is far above what the emulator is asked for, unless `rateLimit`
sets one (bench/replicas.ts makes it the bound).
*/
export async function prepareNamespace(
  kc: KubeConfig,
  emulator: Emulator,
  namespace: string,
  prefix: string,
  n: number,
  rateLimit = { requestsPerSecond: 2000, burst: 2000 },
): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'thalassa-token' }, stringData: { token } } });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group,
    version: 'v1alpha1',
    namespace,
    plural: 'thalassasecretstores',
    body: {
      apiVersion: `${group}/v1alpha1`,
      kind: 'ThalassaSecretStore',
      metadata: { name: 'thalassa' },
      spec: {
        apiURL: emulator.url,
        region,
        organisation,
        auth: { personalAccessToken: { secretRef: { name: 'thalassa-token', key: 'token' } } },
        rateLimit,
      },
    },
  });
  return seedSecrets(emulator, prefix, n);
}

/** One ThalassaSecret per path, `s-00000`..., 32 creates at a time (what the API server accepts). */
export async function createResources(kc: KubeConfig, namespace: string, paths: readonly string[]): Promise<void> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  await runLimited(paths, 32, async (path, i) => {
    await objects.createNamespacedCustomObject({
      group,
      version: 'v1alpha1',
      namespace,
      plural: 'thalassasecrets',
      body: {
        apiVersion: `${group}/v1alpha1`,
        kind: 'ThalassaSecret',
        metadata: { name: `s-${String(i).padStart(5, '0')}` },
        spec: { storeRef: { name: 'thalassa' }, refreshInterval: `${refreshS}s`, data: [{ key: 'value', path }] },
      },
    });
  });
}

/** The operator's flags in every benchmark run (OperatorProcess adds the kubeconfig and the ports). */
export function operatorArgs(namespace: string): string[] {
  return [`--namespaces=${namespace}`, '--leader-elect=false', `--concurrency=${concurrency}`, '--log-level=warn'];
}

/** The memory limit the operator runs under, as `--memory-limit` asks; undefined: none. */
function requestedLimit(): { quantity: string; bytes: number } | undefined {
  const wanted = args['memory-limit'];
  if (wanted === 'none') return undefined;
  if (wanted === 'chart') return chartMemoryLimit();
  return { quantity: wanted, bytes: quantityBytes(wanted) };
}

let cgroup: MemoryCgroup | undefined;
/** What the operator runs under: the limit, or why there is none. Settled by the first start. */
export let memoryLimit: string | undefined;

/** The cgroup every operator process of this run joins (one runs at a time), made on first use. */
function operatorCgroup(): MemoryCgroup | undefined {
  if (memoryLimit !== undefined) return cgroup;
  const limit = requestedLimit();
  if (!limit) {
    memoryLimit = 'none (--memory-limit none)';
    return undefined;
  }
  const made = MemoryCgroup.create(`thalassa-bench-${process.pid}`, limit.bytes);
  if ('unavailable' in made) {
    memoryLimit = `none: ${made.unavailable}`;
    log(`the operator runs without a memory limit: ${made.unavailable}`);
    return undefined;
  }
  cgroup = made;
  memoryLimit = `${limit.quantity} (memory cgroup)`;
  return cgroup;
}

/** Removes the run's cgroup, once no operator is left in it. */
export function removeOperatorCgroup(): void {
  cgroup?.remove();
}

export function startOperator(kubeconfigPath: string, namespace: string): Promise<OperatorProcess> {
  // The compiled build, as the container image runs it (type stripping costs memory of its own).
  const command = [process.execPath, join(import.meta.dirname, '..', 'dist', 'main.js')];
  const limited = operatorCgroup();
  return OperatorProcess.start({
    kubeconfig: kubeconfigPath,
    command: limited ? limited.wrap(command) : command,
    // What the image sets (bench/image-env.ts), as a pod gets it.
    env: { ...imageEnvironment(), NODE_OPTIONS: args['node-options'] },
    args: operatorArgs(namespace),
  });
}

/**
Sync throughput on its own: `n` ThalassaSecrets exist before the operator starts (as after an
install into a cluster that already has them), so that creating them does not compete with the
sync for the API server. Seconds from the operator's start to the last one Ready; the namespace is
deleted, and waited for, before the rest of the size runs.
*/
async function backlogSync(kc: KubeConfig, kubeconfigPath: string, emulator: Emulator, n: number): Promise<number> {
  const namespace = `bench-backlog-${n}-${randomBytes(2).toString('hex')}`;
  const paths = await prepareNamespace(kc, emulator, namespace, `/bench/backlog-${n}/`, n);
  await createResources(kc, namespace, paths);
  const client = new KubeClient(await kubeconfigConnection(kubeconfigPath));
  const resources = new Informer<ThalassaSecret & KubeObject>({ name: 'bench-backlog', client, path: `/apis/${group}/v1alpha1/namespaces/${namespace}/thalassasecrets`, logger: quietLogger });
  const readyAt = new Map<string, number>();
  const onResource = (resource: ThalassaSecret & KubeObject) => {
    if (readyReason(resource) === 'Synced' && !readyAt.has(resource.metadata.name)) readyAt.set(resource.metadata.name, performance.now());
  };
  resources.addHandlers({ onAdd: onResource, onUpdate: (_p, c) => onResource(c) });
  resources.start();
  await resources.synced;
  const started = performance.now();
  const operator = await startOperator(kubeconfigPath, namespace);
  try {
    while (readyAt.size < n) await sleep(100);
    return (Math.max(...readyAt.values()) - started) / 1000;
  } finally {
    await operator.stop();
    await resources.stop();
    client.close();
    await deleteNamespaceAndWait(kc, namespace);
  }
}

/** Deletes a namespace and waits (up to `timeoutMs`) until the namespace controller has emptied and removed it. */
export async function deleteNamespaceAndWait(kc: KubeConfig, namespace: string, timeoutMs = 300_000): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name: namespace });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await core.readNamespace({ name: namespace }).then(() => true, () => false))) await sleep(1000);
}

/** When each version of each Thalassa path was first seen in a Secret, by watch. */
export class VersionsSeen {
  readonly #seen = new Map<string, { version: number; at: number }[]>();

  record(path: string, version: number): void {
    const seen = this.#seen.get(path) ?? [];
    if (!seen.some((s) => s.version === version)) seen.push({ version, at: performance.now() });
    this.#seen.set(path, seen);
  }

  seenAt(path: string, version: number): number | undefined {
    return this.#seen.get(path)?.find((s) => s.version === version)?.at;
  }
}

/** Thalassa requests per refresh interval while nothing changes: counted over two intervals. */
export async function measureIdleRequests(emulator: Emulator, intervalS: number): Promise<SizeResult['idleRequestsPerInterval']> {
  emulator.resetCounters();
  await sleep(2 * intervalS * 1000);
  const idle = emulator.counters().byOperation;
  const perInterval = (op: keyof typeof idle) => Object.values(idle[op]).reduce((a, b) => a + b, 0) / 2;
  return { list: perInterval('list'), get: perInterval('get'), reveal: perInterval('reveal'), total: emulator.counters().total / 2 };
}

export interface RotationResult {
  readonly rotations: number;
  /** Seconds from the new version to the Secret holding it, for the rotations that arrived in time. */
  readonly lags: readonly number[];
  /** Reveals the emulator served from the first rotation until the last one arrived (or the wait ended). */
  readonly reveals: number;
}

/**
Rotates the first min(100, n) paths, spread evenly over one refresh interval, and waits up to
`waitS` for every new version to reach its Secret.
*/
export async function measureRotations(emulator: Emulator, paths: readonly string[], seen: VersionsSeen, intervalS: number, waitS = 4 * intervalS): Promise<RotationResult> {
  const rotations = Math.min(100, paths.length);
  emulator.resetCounters();
  const published = new Map<string, { version: number; at: number }>();
  const rotated = paths.slice(0, rotations);
  for (const path of rotated) {
    const version = emulator.putSecret({ organisation, region, path, secretString: value() });
    published.set(path, { version, at: performance.now() });
    await sleep((intervalS * 1000) / rotations);
  }
  const lagOf = (path: string) => {
    const want = published.get(path);
    const at = want && seen.seenAt(path, want.version);
    return want && at !== undefined ? (at - want.at) / 1000 : undefined;
  };
  const deadline = Date.now() + waitS * 1000;
  while (rotated.some((p) => lagOf(p) === undefined) && Date.now() < deadline) await sleep(100);
  const lags = rotated.map(lagOf).filter((l): l is number => l !== undefined);
  return { rotations, lags, reveals: Object.values(emulator.counters().byOperation.reveal).reduce((a, b) => a + b, 0) };
}

async function benchSize(kc: KubeConfig, kubeconfigPath: string, emulator: Emulator, n: number): Promise<SizeResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  log(`N=${n}: raw server-side apply baseline`);
  const raw = await rawApplyThroughput(kc, n);
  const rawPerSecond = raw.perSecond;

  log(`N=${n}: sync throughput: ${n} ThalassaSecrets created first, then the operator starts`);
  const backlogS = await backlogSync(kc, kubeconfigPath, emulator, n);
  log(`N=${n}: backlog of ${n} Ready in ${round(backlogS)} s`);

  const namespace = `bench-${n}-${randomBytes(2).toString('hex')}`;
  const prefix = `/bench/n${n}/`;
  const paths = await prepareNamespace(kc, emulator, namespace, prefix, n);

  // The benchmark's own view, by watch: which resources are Ready, and what each Secret holds.
  const client = new KubeClient(await kubeconfigConnection(kubeconfigPath));
  const resources = new Informer<ThalassaSecret & KubeObject>({ name: 'bench', client, path: `/apis/${group}/v1alpha1/namespaces/${namespace}/thalassasecrets`, logger: quietLogger });
  const secrets = new Informer<KubeObject>({ name: 'bench-secrets', client, path: `/api/v1/namespaces/${namespace}/secrets`, labelSelector: managedSecretSelector, metadataOnly: true, logger: quietLogger });
  const readyAt = new Map<string, number>();
  const onResource = (resource: ThalassaSecret & KubeObject) => {
    if (readyReason(resource) === 'Synced' && !readyAt.has(resource.metadata.name)) readyAt.set(resource.metadata.name, performance.now());
  };
  resources.addHandlers({ onAdd: onResource, onUpdate: (_p, c) => onResource(c) });
  const versionSeen = new VersionsSeen();
  const onSecret = (secret: KubeObject) => {
    for (const synced of parseSyncedVersions(secret.metadata.annotations?.[syncedVersionsAnnotation])) versionSeen.record(synced.path, synced.version);
  };
  secrets.addHandlers({ onAdd: onSecret, onUpdate: (_p, c) => onSecret(c) });
  resources.start();
  secrets.start();
  await Promise.all([resources.synced, secrets.synced]);

  const operator = await startOperator(kubeconfigPath, namespace);
  const rss = new PeakRss(operator.child.pid ?? 0);
  try {
    await operator.waitReady();
    log(`N=${n}: creating ${n} ThalassaSecrets`);
    const cpuBefore = cpuSeconds(operator.child.pid ?? 0);
    const writesBefore = await apiServerWrites(kc);
    const started = performance.now();
    await createResources(kc, namespace, paths);
    const created = performance.now();
    while (readyAt.size < n) await sleep(100);
    const allReady = Math.max(...readyAt.values());
    const timeToReadyS = (allReady - started) / 1000;
    const operatorCores = (cpuSeconds(operator.child.pid ?? 0) - cpuBefore) / timeToReadyS;
    // Events are sent after the status: give the last ones a moment to land before counting.
    await sleep(2000);
    const syncWrites = writesBetween(writesBefore, await apiServerWrites(kc), new Map([['POST thalassasecrets', n]]));
    log(`N=${n}: all Ready in ${round(timeToReadyS)} s (creating took ${round((created - started) / 1000)} s); ${round(totalWrites(syncWrites) / n)} writes per sync`);

    log(`N=${n}: idle polling for ${2 * refreshS} s`);
    const idleRequests = await measureIdleRequests(emulator, refreshS);

    log(`N=${n}: ${Math.min(100, n)} rotations`);
    const rotationWritesBefore = await apiServerWrites(kc);
    const { rotations, lags, reveals: rotationReveals } = await measureRotations(emulator, paths, versionSeen, refreshS);
    await sleep(2000);
    const rotationWrites = writesBetween(rotationWritesBefore, await apiServerWrites(kc));

    log(`N=${n}: new resources while all ${n} refresh`);
    const fresh = Array.from({ length: 20 }, (_, i) => `${prefix}fresh-${i}`);
    for (const path of fresh) emulator.putSecret({ organisation, region, path, secretString: value() });
    for (const path of paths) emulator.putSecret({ organisation, region, path, secretString: value() });
    // Wait for the refresh to be under way: the poller has queued the whole set.
    const busyDeadline = Date.now() + 3 * refreshS * 1000;
    while ((await operator.metric('workqueue_depth')) < Math.min(n / 4, 1000) && Date.now() < busyDeadline) await sleep(50);
    const depthWhenCreated = await operator.metric('workqueue_depth');
    const createdAt = new Map<string, number>();
    await runLimited(fresh, 4, async (path, i) => {
      const name = `fresh-${i}`;
      createdAt.set(name, performance.now());
      await objects.createNamespacedCustomObject({
        group,
        version: 'v1alpha1',
        namespace,
        plural: 'thalassasecrets',
        body: { apiVersion: `${group}/v1alpha1`, kind: 'ThalassaSecret', metadata: { name }, spec: { storeRef: { name: 'thalassa' }, data: [{ key: 'value', path }] } },
      });
    });
    const freshDeadline = Date.now() + 120_000;
    while ([...createdAt.keys()].some((name) => !readyAt.has(name)) && Date.now() < freshDeadline) await sleep(50);
    const freshLatency = [...createdAt].map(([name, at]) => ((readyAt.get(name) ?? Number.NaN) - at) / 1000);
    // Let the refresh storm finish before measuring memory at rest.
    const stormDeadline = Date.now() + 10 * refreshS * 1000;
    while ((await operator.metric('workqueue_depth')) > 0 && Date.now() < stormDeadline) await sleep(500);
    // At rest: nothing changes for longer than the value cache keeps a value (--value-cache-retention).
    log(`N=${n}: at rest for ${restS} s`);
    await sleep(restS * 1000);
    const rest = memoryOf(operator.child.pid ?? 0);
    // For a closer look at where the resident memory is (docs/benchmarks.md, "Memory"): the mappings as they are at rest.
    if (process.env['BENCH_SMAPS']) writeFileSync(`${process.env['BENCH_SMAPS']}-${n}.txt`, readFileSync(`/proc/${operator.child.pid ?? 0}/smaps`));
    const metricsText = await operator.metrics();
    return {
      n,
      timeToReadyS: round(timeToReadyS),
      syncsPerSecond: round(n / timeToReadyS, 1),
      rawApplyPerSecond: round(rawPerSecond, 1),
      throughputRatio: round(n / timeToReadyS / rawPerSecond),
      backlogSyncS: round(backlogS),
      backlogSyncsPerSecond: round(n / backlogS, 1),
      backlogThroughputRatio: round(n / backlogS / rawPerSecond),
      operatorCpuCores: round(operatorCores),
      idleRequestsPerInterval: idleRequests,
      rotations: lags.length,
      rotationsMissed: rotations - lags.length,
      revealsPerRotation: round(rotationReveals / rotations),
      rotationLagS: { p50: round(percentile(lags, 50)), p95: round(percentile(lags, 95)), p99: round(percentile(lags, 99)) },
      newResourceReadyS: { p50: round(percentile(freshLatency, 50)), p99: round(percentile(freshLatency, 99)), queueDepthAtCreate: depthWhenCreated },
      writesPerSync: perResource(syncWrites, n),
      writesPerRotation: perResource(rotationWrites, Math.max(lags.length, 1)),
      peakRssMiB: mib(rss.stop()),
      restRssMiB: mib(rest.rss),
      restRssAnonMiB: mib(rest.anon),
      heapUsedMiB: mib(sumMetric(metricsText, 'nodejs_heap_size_used_bytes')),
      heapTotalMiB: mib(sumMetric(metricsText, 'nodejs_heap_size_total_bytes')),
      externalMiB: mib(sumMetric(metricsText, 'nodejs_external_memory_bytes')),
    };
  } finally {
    rss.stop();
    await operator.stop();
    await resources.stop();
    await secrets.stop();
    client.close();
    // Left to the namespace controller: the next size does not wait for it.
    for (const name of [namespace, raw.namespace]) await core.deleteNamespace({ name }).catch(() => undefined);
  }
}

/** Writes per resource (or per rotation), in all and by `VERB resource`. */
function perResource(writes: WriteCounts, count: number): SizeResult['writesPerSync'] {
  return {
    total: round(totalWrites(writes) / count),
    byKind: Object.fromEntries([...writes].sort(([a], [b]) => a.localeCompare(b)).map(([kind, made]) => [kind, round(made / count)])),
  };
}

/** The operator runs from dist/, as the container image runs it. */
export function compileDist(): void {
  log('compiling dist/ (npm run build)');
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
  });
}

/** The emulator with the benchmark's organisation, token and latency. */
export async function startBenchEmulator(): Promise<Emulator> {
  return await startEmulator({
    seed: {
      organisations: [{ identity: organisation }],
      regions: [{ slug: region }],
      kmsKeys: [{ identity: 'kms-bench', organisation, region }],
      principals: [{ name: 'operator', organisation, permissions: [{ actions: ['read', 'list', 'getSecretValue'] }] }],
      personalAccessTokens: [{ token, principal: 'operator' }],
    },
    faults: { latency: { fixedMs: latencyMs } },
  });
}

async function main(): Promise<void> {
  compileDist();
  if (args.replicas !== undefined) {
    // Sharded mode with 1, 2, 3... members (bench/replicas.ts); its own defaults: 1,000 resources, 200 ms latency.
    const { runReplicas } = await import('./replicas.ts');
    const explicitLatency = process.argv.some((a) => a.startsWith('--latency-ms'));
    await runReplicas({
      replicas: args.replicas.split(',').map(Number),
      size: args.sizes === undefined ? 1000 : (sizes[0] ?? 1000),
      latencyMs: explicitLatency ? latencyMs : 200,
      storeRequestsPerSecond: 20,
      concurrency: 8,
      refreshS,
    });
    return;
  }
  log(`sizes ${sizes.join(', ')}; emulator latency ${latencyMs} ms; operator concurrency ${concurrency}; refresh ${refreshS} s`);
  if (args.peer !== undefined) {
    if (args.peer !== 'eso') throw new Error(`--peer: the only peer is "eso", not "${args.peer}"`);
    // Loaded only on demand; it imports this module, which is why this module has no top-level await.
    const { runPeerEso } = await import('./peer-eso.ts');
    await runPeerEso();
    return;
  }
  const cluster = await startCluster();
  const emulator = await startBenchEmulator();
  try {
    const kc = loadKubeConfig(cluster.kubeconfigPath);
    await applyCrds(kc);
    const results: SizeResult[] = [];
    for (const n of sizes) results.push(await benchSize(kc, cluster.kubeconfigPath, emulator, n));
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: machineDescription(),
      settings: { latencyMs, concurrency, refreshIntervalS: refreshS, valueBytes, quick: args.quick, memoryLimit: memoryLimit ?? 'none' },
      results,
    };
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
    const markdown = markdownReport(report);
    process.stdout.write(`${markdown}\n`);
    if (writeDocs) writeFileSync(join('docs', 'benchmarks.md'), markdown);
  } finally {
    await emulator.stop();
    await cluster.stop();
    removeOperatorCgroup();
  }
}

// Not awaited at the top level: bench/peer-eso.ts imports this module while main() runs, and an
// import of a module that is still in its top-level await would wait for itself.
if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
