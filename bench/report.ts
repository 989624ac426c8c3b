import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface SizeResult {
  readonly n: number;
  readonly timeToReadyS: number;
  readonly syncsPerSecond: number;
  readonly rawApplyPerSecond: number;
  readonly throughputRatio: number;
  /** N ThalassaSecrets that exist before the operator starts: from its start to all Ready. */
  readonly backlogSyncS: number;
  readonly backlogSyncsPerSecond: number;
  readonly backlogThroughputRatio: number;
  /** Cores the operator used while syncing: CPU seconds over the created-to-Ready time. */
  readonly operatorCpuCores: number;
  readonly idleRequestsPerInterval: { readonly list: number; readonly get: number; readonly reveal: number; readonly total: number };
  readonly rotations: number;
  readonly rotationsMissed: number;
  readonly revealsPerRotation: number;
  readonly rotationLagS: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly newResourceReadyS: { readonly p50: number; readonly p99: number; readonly queueDepthAtCreate: number };
  /** Kubernetes API writes per created resource (its own create not counted) and per rotation, counted by the API server. */
  readonly writesPerSync: WritesPer;
  readonly writesPerRotation: WritesPer;
  readonly peakRssMiB: number;
  /** After the sync, its refresh storm and 160 s with nothing changing; `anon` is the part that is not mapped files (the Node binary). */
  readonly restRssMiB: number;
  readonly restRssAnonMiB: number;
  readonly heapUsedMiB: number;
  /** At rest too: the V8 heap as committed (used or not), and memory outside it that V8 accounts for (buffers). */
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
}

export interface WritesPer {
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
}

export interface BenchReport {
  readonly date: string;
  readonly machine: string;
  readonly settings: { readonly latencyMs: number; readonly concurrency: number; readonly refreshIntervalS: number; readonly valueBytes: number; readonly quick: boolean; readonly memoryLimit: string };
  readonly results: readonly SizeResult[];
}

export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let os = 'Linux';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux
  }
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB, ${os}, Node ${process.version}`;
}

function growth(results: readonly SizeResult[], pick: (r: SizeResult) => number): string {
  const first = results[0];
  const last = results.at(-1);
  if (!first || !last || first === last) return '';
  const factor = pick(last) / pick(first);
  return `×${Number.isFinite(factor) ? factor.toFixed(2) : 'n/a'} for ×${(last.n / first.n).toFixed(0)} resources`;
}

/** `3 (1 POST secrets, 1 PATCH …)`: the total and each kind of write. */
function writesSummary(writes: WritesPer): string {
  const kinds = Object.entries(writes.byKind).map(([kind, count]) => `${count} ${kind}`);
  return `${writes.total}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`;
}

export function markdownReport(report: BenchReport): string {
  const { results, settings } = report;
  const largest = results.at(-1);
  const col = (pick: (r: SizeResult) => string | number) => results.map((r) => String(pick(r))).join(' | ');
  const header = `| | ${results.map((r) => `N = ${r.n}`).join(' | ')} | growth |`;
  const rule = `|---|${results.map(() => '---').join('|')}|---|`;
  const row = (label: string, pick: (r: SizeResult) => string | number, numeric?: (r: SizeResult) => number) =>
    `| ${label} | ${col(pick)} | ${numeric ? growth(results, numeric) : ''} |`;
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : '**missed**');
  const lines = [
    '# Benchmarks',
    '',
    `<!-- Written by \`npm run bench -- --write-docs\` on ${report.date}; the notes come from bench/notes.md. -->`,
    '',
    `Machine: ${report.machine}. Emulator latency ${settings.latencyMs} ms per request; operator concurrency ${settings.concurrency};`,
    `refreshInterval ${settings.refreshIntervalS} s; values of ${settings.valueBytes} bytes; memory limit ${settings.memoryLimit}; the operator runs as its own process against a`,
    'local kube-apiserver + etcd on the same machine. Every ratio is against a baseline measured in the same run.',
    '',
    '## Results',
    '',
    header,
    rule,
    row('created → all Ready (s)', (r) => r.timeToReadyS, (r) => r.timeToReadyS),
    row('syncs per second', (r) => r.syncsPerSecond, (r) => r.syncsPerSecond),
    row('raw server-side apply per second (same API server)', (r) => r.rawApplyPerSecond, (r) => r.rawApplyPerSecond),
    row('sync / raw apply throughput', (r) => r.throughputRatio),
    row('N existing, operator starts → all Ready (s)', (r) => r.backlogSyncS, (r) => r.backlogSyncS),
    row('… syncs per second', (r) => r.backlogSyncsPerSecond, (r) => r.backlogSyncsPerSecond),
    row('… sync / raw apply throughput', (r) => r.backlogThroughputRatio),
    row('operator CPU while syncing (cores)', (r) => r.operatorCpuCores, (r) => r.operatorCpuCores),
    row('Thalassa requests per poll interval, nothing changed', (r) => `${r.idleRequestsPerInterval.total} (${r.idleRequestsPerInterval.list} list, ${r.idleRequestsPerInterval.get} get, ${r.idleRequestsPerInterval.reveal} reveal)`, (r) => Math.max(r.idleRequestsPerInterval.total, 1)),
    row('reveals per rotation', (r) => r.revealsPerRotation),
    row('rotation lag p50 / p95 / p99 (s)', (r) => `${r.rotationLagS.p50} / ${r.rotationLagS.p95} / ${r.rotationLagS.p99} (${r.rotations} rotations${r.rotationsMissed ? `, ${r.rotationsMissed} missed` : ''})`, (r) => r.rotationLagS.p99),
    row('new resource → Ready while all refresh, p50 / p99 (s)', (r) => `${r.newResourceReadyS.p50} / ${r.newResourceReadyS.p99} (queue ${r.newResourceReadyS.queueDepthAtCreate})`, (r) => r.newResourceReadyS.p99),
    row('Kubernetes writes per sync', (r) => writesSummary(r.writesPerSync), (r) => r.writesPerSync.total),
    row('Kubernetes writes per rotation', (r) => writesSummary(r.writesPerRotation), (r) => r.writesPerRotation.total),
    row('operator peak RSS (MiB)', (r) => r.peakRssMiB, (r) => r.peakRssMiB),
    row('operator RSS at rest (MiB; of it not the mapped binary)', (r) => `${r.restRssMiB} (${r.restRssAnonMiB})`, (r) => r.restRssMiB),
    row('operator heap used / committed, external at rest (MiB)', (r) => `${r.heapUsedMiB} / ${r.heapTotalMiB}, ${r.externalMiB}`, (r) => r.heapUsedMiB),
    '',
    `## Targets (${largest ? `at N = ${largest.n}` : 'no run'})`,
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    `| 10,000 created → Ready under 60 s | ${largest?.timeToReadyS ?? 'n/a'} s | ${verdict(largest && largest.n >= 10_000 ? largest.timeToReadyS < 60 : undefined)} |`,
    `| idle: at most one list per prefix group, zero reveals | ${largest ? `${largest.idleRequestsPerInterval.list} list, ${largest.idleRequestsPerInterval.reveal} reveal` : 'n/a'} | ${verdict(largest ? largest.idleRequestsPerInterval.list <= 1 && largest.idleRequestsPerInterval.reveal === 0 && largest.idleRequestsPerInterval.get === 0 : undefined)} |`,
    `| new version → Secret within interval + 2 s, p99 | ${largest?.rotationLagS.p99 ?? 'n/a'} s (interval ${settings.refreshIntervalS} s) | ${verdict(largest ? largest.rotationLagS.p99 <= settings.refreshIntervalS + 2 && largest.rotationsMissed === 0 : undefined)} |`,
    `| new resource Ready within 2 s while others refresh, p99 | ${largest?.newResourceReadyS.p99 ?? 'n/a'} s | ${verdict(largest ? largest.newResourceReadyS.p99 <= 2 : undefined)} |`,
    `| peak RSS under 200 MiB at 10,000 with 4 KiB values, chart's memory limit | ${largest?.peakRssMiB ?? 'n/a'} MiB | ${verdict(largest && largest.n >= 10_000 ? largest.peakRssMiB < 200 : undefined)} |`,
    `| RSS at rest under 120 MiB at 10,000 | ${largest ? `${largest.restRssMiB} MiB (${largest.restRssAnonMiB} not the binary)` : 'n/a'} | ${verdict(largest && largest.n >= 10_000 ? largest.restRssMiB < 120 : undefined)} |`,
    `| sync / raw apply throughput at least 0.7 | ${largest ? `${largest.backlogThroughputRatio} for existing resources; ${largest.throughputRatio} while they are created` : 'n/a'} | ${verdict(largest ? largest.backlogThroughputRatio >= 0.7 : undefined)} |`,
    '',
  ];
  for (const appendix of [notesPath, peerDocsPath, replicasDocsPath]) {
    if (existsSync(appendix)) lines.push(readFileSync(appendix, 'utf8').trimEnd(), '');
  }
  return lines.join('\n');
}

const notesPath = join(import.meta.dirname, 'notes.md');
/** The side-by-side section: written by hand, but for the measured table between the markers. */
const peerDocsPath = join(import.meta.dirname, 'peer-eso.md');
/** The sharding section (`npm run bench -- --replicas 1,2,3`): written by hand from its run. */
const replicasDocsPath = join(import.meta.dirname, 'replicas.md');
const docsPath = join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
const tableStart = '<!-- peer-eso:table (written by `npm run bench -- --peer eso --write-docs`) -->';
const tableEnd = '<!-- /peer-eso:table -->';

/** One operator at one N in the side-by-side run (`npm run bench -- --peer eso`, bench/side-by-side.ts). */
export interface PeerSizeResult {
  readonly n: number;
  /** From the first create to the last resource Ready, the operator already running. */
  readonly timeToReadyS: number;
  readonly syncsPerSecond: number;
  readonly idleRequestsPerInterval: SizeResult['idleRequestsPerInterval'];
  /** Kubernetes API writes per refresh interval while nothing changes. */
  readonly idleWritesPerInterval: number;
  readonly idleCpuSecondsPerInterval: number;
  readonly rotations: number;
  readonly rotationsMissed: number;
  readonly revealsPerRotation: number;
  readonly rotationLagS: { readonly p50: number; readonly p99: number };
  /** Kubernetes API writes from the first create until all are Ready, per resource, less the benchmark's own creates. */
  readonly writesPerSync: number;
  /** The same, by `VERB resource[/subresource]`. */
  readonly writesPerSyncByKind: Readonly<Record<string, number>>;
  readonly peakRssMiB: number;
  /** RSS at the end of the idle intervals. */
  readonly restRssMiB: number;
  /** CPU seconds (user + system) from the first create until all are Ready. */
  readonly syncCpuSeconds: number;
  /** The machine's 1-minute load average when all were Ready: other work on the same cores shows here. */
  readonly loadAverage: number;
}

export interface PeerReport {
  readonly date: string;
  readonly machine: string;
  readonly settings: { readonly latencyMs: number; readonly concurrency: number; readonly refreshIntervalS: number; readonly valueBytes: number };
  readonly peer: { readonly name: string; readonly version: string; readonly command: readonly string[] };
  readonly operator: { readonly command: readonly string[] };
  readonly results: readonly { readonly n: number; readonly peer: PeerSizeResult; readonly operator: PeerSizeResult }[];
}

/** The side-by-side table: one row per figure and N, the peer, this operator, and peer ÷ this operator. */
export function peerMarkdownTable(report: PeerReport): string {
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '1' : '∞') : (a / b).toFixed(2));
  const figures: { label: string; show: (r: PeerSizeResult) => string; numeric: (r: PeerSizeResult) => number }[] = [
    { label: 'created → all Ready (s)', show: (r) => String(r.timeToReadyS), numeric: (r) => r.timeToReadyS },
    { label: 'syncs per second', show: (r) => String(r.syncsPerSecond), numeric: (r) => r.syncsPerSecond },
    {
      label: 'Thalassa requests per refresh interval, nothing changed',
      show: (r) => `${r.idleRequestsPerInterval.total} (${r.idleRequestsPerInterval.list} list, ${r.idleRequestsPerInterval.reveal} reveal)`,
      numeric: (r) => r.idleRequestsPerInterval.total,
    },
    { label: 'Kubernetes writes per refresh interval, nothing changed', show: (r) => String(r.idleWritesPerInterval), numeric: (r) => r.idleWritesPerInterval },
    { label: 'reveals per rotation', show: (r) => String(r.revealsPerRotation), numeric: (r) => r.revealsPerRotation },
    {
      label: 'rotation lag p50 / p99 (s)',
      show: (r) => `${r.rotationLagS.p50} / ${r.rotationLagS.p99}${r.rotationsMissed ? ` (${r.rotationsMissed} of ${r.rotations + r.rotationsMissed} not seen)` : ''}`,
      numeric: (r) => r.rotationLagS.p99,
    },
    {
      label: 'Kubernetes writes per sync',
      show: (r) => `${r.writesPerSync} (${Object.entries(r.writesPerSyncByKind).filter(([, count]) => count > 0).map(([kind, count]) => `${count} ${kind}`).join(', ')})`,
      numeric: (r) => r.writesPerSync,
    },
    { label: 'peak RSS (MiB)', show: (r) => String(r.peakRssMiB), numeric: (r) => r.peakRssMiB },
    { label: 'RSS at rest (MiB)', show: (r) => String(r.restRssMiB), numeric: (r) => r.restRssMiB },
    { label: 'CPU seconds, created → all Ready', show: (r) => String(r.syncCpuSeconds), numeric: (r) => r.syncCpuSeconds },
    { label: 'CPU seconds per refresh interval, nothing changed', show: (r) => String(r.idleCpuSecondsPerInterval), numeric: (r) => r.idleCpuSecondsPerInterval },
    { label: 'machine load (1-min average) when all were Ready', show: (r) => String(r.loadAverage), numeric: (r) => r.loadAverage },
  ];
  const lines = [`| figure | N | ${report.peer.name} | this operator | ${report.peer.name} ÷ this operator |`, '|---|---|---|---|---|'];
  for (const figure of figures) {
    report.results.forEach(({ n, peer, operator }, i) => {
      lines.push(`| ${i === 0 ? figure.label : ''} | ${n} | ${figure.show(peer)} | ${figure.show(operator)} | ${ratio(figure.numeric(peer), figure.numeric(operator))} |`);
    });
  }
  return lines.join('\n');
}

function peerRunDescription(report: PeerReport): string {
  const { settings } = report;
  return [
    `Measured ${report.date.slice(0, 10)} on ${report.machine}: ESO ${report.peer.version}, emulator latency ${settings.latencyMs} ms,`,
    `concurrency ${settings.concurrency}, refreshInterval ${settings.refreshIntervalS} s, values of ${settings.valueBytes} bytes.`,
    '',
    `- ESO: \`${report.peer.command.join(' ')}\``,
    `- this operator: \`${report.operator.command.join(' ')}\``,
  ].join('\n');
}

/**
Puts the measured table into bench/peer-eso.md, and that file into docs/benchmarks.md in place of
its side-by-side section (which starts with the file's first line and runs to the end): the same
text `npm run bench -- --write-docs` appends, so neither run undoes the other.
*/
export function writePeerDocs(report: PeerReport): void {
  const section = readFileSync(peerDocsPath, 'utf8');
  const start = section.indexOf(tableStart);
  const end = section.indexOf(tableEnd);
  if (start < 0 || end < start) throw new Error(`${peerDocsPath} has no ${tableStart} … ${tableEnd} block`);
  const updated = `${section.slice(0, start + tableStart.length)}\n${peerRunDescription(report)}\n\n${peerMarkdownTable(report)}\n${section.slice(end)}`;
  writeFileSync(peerDocsPath, updated);
  const heading = updated.split('\n', 1)[0] ?? '';
  const docs = readFileSync(docsPath, 'utf8');
  const at = heading === '' ? -1 : docs.indexOf(`\n${heading}\n`);
  writeFileSync(docsPath, `${(at < 0 ? docs : docs.slice(0, at + 1)).trimEnd()}\n\n${updated.trimEnd()}\n`);
}
