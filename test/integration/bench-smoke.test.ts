import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { BenchReport } from '../../bench/report.ts';

describe('npm run bench', () => {
  it('runs the quick size end to end and reports every figure (a smoke test: no timing is asserted)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    const out = join(dir, 'bench.json');
    try {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, '../../bench/run.ts'), '--quick', '--sizes=40', '--refresh-interval-s=3', `--out=${out}`],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, THALASSA_TEST_CLUSTER: 'existing', KUBECONFIG: inject('kubeconfigPath') } },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, output.slice(-3000)).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
      const result = report.results[0];
      expect(result?.n).toBe(40);
      expect(result?.rotations).toBe(40);
      expect(result?.idleRequestsPerInterval.reveal).toBe(0);
      expect(result?.revealsPerRotation).toBe(1);
      for (const figure of [result?.timeToReadyS, result?.backlogSyncS, result?.rawApplyPerSecond, result?.operatorCpuCores, result?.rotationLagS.p99, result?.newResourceReadyS.p99, result?.peakRssMiB, result?.restRssMiB, result?.restRssAnonMiB]) {
        expect(Number.isFinite(figure)).toBe(true);
      }
      // Every sync writes its Secret and its status at least; every rotation its Secret.
      expect(result?.writesPerSync.byKind['POST secrets']).toBe(1);
      expect(result?.writesPerRotation.total).toBeGreaterThanOrEqual(1);
      // Under the chart's limit where a cgroup can be made (CI runs as root), and says so either way.
      expect(report.settings.memoryLimit).toMatch(/^(512Mi \(memory cgroup\)|none: )/);
      expect(output).toContain('| created → all Ready (s) |');
      expect(output).toContain('| N existing, operator starts → all Ready (s) |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
