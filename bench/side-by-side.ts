/**
One operator, one N, measured the way every contender of `npm run bench -- --peer …` is: the same
emulator, the same API server, the same phases, the same counters. A contender only says how to
set up its store, create its resources, start its process, and read readiness and versions.
*/
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Emulator } from '../src/emulator/index.ts';
import { kubeconfigConnection } from '../src/kube/connection.ts';
import { Informer } from '../src/kube/informer.ts';
import { KubeClient } from '../src/kube/kube-client.ts';
import type { KubeObject } from '../src/kube/list-watch.ts';
import { apiServerWrites, totalWrites, writesBetween } from '../test/support/apiserver-writes.ts';
import type { PeerSizeResult } from './report.ts';
import { deleteNamespaceAndWait, log, measureIdleRequests, measureRotations, quietLogger, VersionsSeen } from './run.ts';
import { cpuSeconds, mib, PeakRss, percentile, round, rssBytes } from './stats.ts';

export interface RunningContender {
  readonly pid: number;
  /** The last lines it printed, for the error when it fails. */
  tail(): string;
  stop(): Promise<void>;
}

export interface Contender {
  /** Short, for namespace and emulator path names. */
  readonly id: string;
  /** Plural of the resource kind the benchmark creates, one per path: those creates are the benchmark's writes, not the operator's. */
  readonly plural: string;
  resourcesPath(namespace: string): string;
  isReady(resource: KubeObject): boolean;
  /** Selects the Secrets the operator writes. */
  readonly secretSelector: string;
  /** The Thalassa paths and versions a Secret it wrote holds. */
  versionsIn(secret: KubeObject): readonly { readonly path: string; readonly version: number }[];
  /** Creates `namespace` with a store on the emulator, seeds `n` values under `prefix`, and returns their paths. */
  prepare(namespace: string, prefix: string, n: number): Promise<string[]>;
  create(namespace: string, paths: readonly string[]): Promise<void>;
  start(namespace: string): Promise<RunningContender>;
}

export interface SideBySideOptions {
  readonly kc: KubeConfig;
  readonly kubeconfigPath: string;
  readonly emulator: Emulator;
  readonly refreshS: number;
}

/** Events are sent by a broadcaster after the write they describe; this long after the last Ready they have arrived. */
const eventGraceMs = 2000;
/** A size that does not become Ready within this is a failed run, not a figure. */
const readyTimeoutMs = 30 * 60_000;

export async function measureContender(options: SideBySideOptions, contender: Contender, n: number): Promise<PeerSizeResult> {
  const { kc, kubeconfigPath, emulator, refreshS } = options;
  const suffix = randomBytes(2).toString('hex');
  const namespace = `peer-${contender.id}-${n}-${suffix}`;
  const paths = await contender.prepare(namespace, `/peer/${contender.id}-${n}-${suffix}/`, n);
  const say = (message: string) => log(`${contender.id} N=${n}: ${message}`);

  // The benchmark's own view, by watch: which resources are Ready, and which version each Secret holds.
  const client = new KubeClient(await kubeconfigConnection(kubeconfigPath));
  const resources = new Informer({ name: 'peer-resources', client, path: contender.resourcesPath(namespace), logger: quietLogger });
  const secrets = new Informer({ name: 'peer-secrets', client, path: `/api/v1/namespaces/${namespace}/secrets`, labelSelector: contender.secretSelector, metadataOnly: true, logger: quietLogger });
  const readyAt = new Map<string, number>();
  const onResource = (resource: KubeObject) => {
    if (contender.isReady(resource) && !readyAt.has(resource.metadata.name)) readyAt.set(resource.metadata.name, performance.now());
  };
  resources.addHandlers({ onAdd: onResource, onUpdate: (_p, c) => onResource(c) });
  const seen = new VersionsSeen();
  const onSecret = (secret: KubeObject) => {
    for (const { path, version } of contender.versionsIn(secret)) seen.record(path, version);
  };
  secrets.addHandlers({ onAdd: onSecret, onUpdate: (_p, c) => onSecret(c) });
  resources.start();
  secrets.start();
  await Promise.all([resources.synced, secrets.synced]);

  const operator = await contender.start(namespace);
  const rss = new PeakRss(operator.pid);
  try {
    say(`creating ${n} resources`);
    const writesBefore = await apiServerWrites(kc);
    const cpuBefore = cpuSeconds(operator.pid);
    const started = performance.now();
    await contender.create(namespace, paths);
    const deadline = Date.now() + readyTimeoutMs;
    while (readyAt.size < n) {
      if (Date.now() > deadline) throw new Error(`${contender.id}: ${readyAt.size} of ${n} Ready after ${readyTimeoutMs / 1000} s; its output:\n${operator.tail()}`);
      await sleep(100);
    }
    const timeToReadyS = (Math.max(...readyAt.values()) - started) / 1000;
    const syncCpuSeconds = cpuSeconds(operator.pid) - cpuBefore;
    const [loadAverage = 0] = loadavg();
    await sleep(eventGraceMs);
    const syncWrites = writesBetween(writesBefore, await apiServerWrites(kc), new Map([[`POST ${contender.plural}`, n]]));
    say(`all Ready in ${round(timeToReadyS)} s; ${round(totalWrites(syncWrites) / n)} writes per sync; load ${round(loadAverage)}`);

    say(`nothing changes for ${2 * refreshS} s`);
    const idleWritesBefore = await apiServerWrites(kc);
    const idleCpuBefore = cpuSeconds(operator.pid);
    const idleRequests = await measureIdleRequests(emulator, refreshS);
    const idleCpu = cpuSeconds(operator.pid) - idleCpuBefore;
    const idleWrites = totalWrites(writesBetween(idleWritesBefore, await apiServerWrites(kc)));
    const restRss = rssBytes(operator.pid);

    say(`${Math.min(100, n)} rotations`);
    // Longer than bench/run.ts waits: an operator that refreshes every resource on its own timer
    // falls behind its interval at scale, and how far behind is the figure.
    const rotation = await measureRotations(emulator, paths, seen, refreshS, 8 * refreshS);
    say(`${rotation.lags.length} of ${rotation.rotations} rotations seen, p99 ${round(percentile(rotation.lags, 99))} s`);
    return {
      n,
      timeToReadyS: round(timeToReadyS),
      syncsPerSecond: round(n / timeToReadyS, 1),
      idleRequestsPerInterval: idleRequests,
      idleWritesPerInterval: round(idleWrites / 2, 1),
      idleCpuSecondsPerInterval: round(idleCpu / 2),
      rotations: rotation.lags.length,
      rotationsMissed: rotation.rotations - rotation.lags.length,
      revealsPerRotation: round(rotation.reveals / rotation.rotations),
      rotationLagS: { p50: round(percentile(rotation.lags, 50)), p99: round(percentile(rotation.lags, 99)) },
      writesPerSync: round(totalWrites(syncWrites) / n),
      writesPerSyncByKind: Object.fromEntries([...syncWrites].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => [kind, round(count / n)])),
      peakRssMiB: mib(rss.stop()),
      restRssMiB: mib(restRss),
      syncCpuSeconds: round(syncCpuSeconds),
      loadAverage: round(loadAverage),
    };
  } finally {
    rss.stop();
    await operator.stop();
    await resources.stop();
    await secrets.stop();
    client.close();
    // Waited for: the next contender runs alone, not next to the namespace controller's deletes.
    say('deleting the namespace');
    await deleteNamespaceAndWait(kc, namespace, 900_000);
  }
}
