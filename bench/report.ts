import { existsSync, readFileSync } from 'node:fs';
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
  readonly peakRssMiB: number;
  readonly heapUsedMiB: number;
}

export interface BenchReport {
  readonly date: string;
  readonly machine: string;
  readonly settings: { readonly latencyMs: number; readonly concurrency: number; readonly refreshIntervalS: number; readonly valueBytes: number; readonly quick: boolean };
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
    `refreshInterval ${settings.refreshIntervalS} s; values of ${settings.valueBytes} bytes; the operator runs as its own process against a`,
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
    row('operator peak RSS (MiB)', (r) => r.peakRssMiB, (r) => r.peakRssMiB),
    row('operator heap used at rest (MiB)', (r) => r.heapUsedMiB, (r) => r.heapUsedMiB),
    '',
    `## Targets (${largest ? `at N = ${largest.n}` : 'no run'})`,
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    `| 10,000 created → Ready under 60 s | ${largest?.timeToReadyS ?? 'n/a'} s | ${verdict(largest && largest.n >= 10_000 ? largest.timeToReadyS < 60 : undefined)} |`,
    `| idle: at most one list per prefix group, zero reveals | ${largest ? `${largest.idleRequestsPerInterval.list} list, ${largest.idleRequestsPerInterval.reveal} reveal` : 'n/a'} | ${verdict(largest ? largest.idleRequestsPerInterval.list <= 1 && largest.idleRequestsPerInterval.reveal === 0 && largest.idleRequestsPerInterval.get === 0 : undefined)} |`,
    `| new version → Secret within interval + 2 s, p99 | ${largest?.rotationLagS.p99 ?? 'n/a'} s (interval ${settings.refreshIntervalS} s) | ${verdict(largest ? largest.rotationLagS.p99 <= settings.refreshIntervalS + 2 && largest.rotationsMissed === 0 : undefined)} |`,
    `| new resource Ready within 2 s while others refresh, p99 | ${largest?.newResourceReadyS.p99 ?? 'n/a'} s | ${verdict(largest ? largest.newResourceReadyS.p99 <= 2 : undefined)} |`,
    `| under 150 MiB RSS at 10,000 with 4 KiB values | ${largest?.peakRssMiB ?? 'n/a'} MiB | ${verdict(largest && largest.n >= 10_000 ? largest.peakRssMiB < 150 : undefined)} |`,
    `| sync / raw apply throughput at least 0.7 | ${largest ? `${largest.backlogThroughputRatio} for existing resources; ${largest.throughputRatio} while they are created` : 'n/a'} | ${verdict(largest ? largest.backlogThroughputRatio >= 0.7 : undefined)} |`,
    '',
  ];
  const notes = join(import.meta.dirname, 'notes.md');
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trimEnd(), '');
  return lines.join('\n');
}
