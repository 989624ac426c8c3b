import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePorts } from './control-plane/local-control-plane.ts';
import { waitFor } from './kube.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

export interface OperatorProcessOptions {
  readonly kubeconfig: string;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Run this command instead of `node src/main.ts` (e.g. the compiled dist/main.js). */
  readonly command?: readonly string[];
}

/**
The operator as its own process, the way it runs in a cluster: stdout (its JSON logs) and stderr
are kept for inspection, metrics and health are on free loopback ports.
*/
export class OperatorProcess {
  readonly child: ChildProcess;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, metricsPort: number, healthPort: number) {
    this.child = child;
    this.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    this.healthUrl = `http://127.0.0.1:${healthPort}`;
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const [metricsPort, healthPort] = (await freePorts(2)) as [number, number];
    const [command, ...commandArgs] = options.command ?? [process.execPath, join(repoRoot, 'src/main.ts')];
    if (!command) throw new Error('empty command');
    const child = spawn(
      command,
      [
        ...commandArgs,
        `--kubeconfig=${options.kubeconfig}`,
        `--metrics-address=127.0.0.1:${metricsPort}`,
        `--health-address=127.0.0.1:${healthPort}`,
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
    );
    return new OperatorProcess(child, metricsPort, healthPort);
  }

  /** Runs the operator with `args` to completion: for configuration errors and --help. */
  static async runToExit(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [join(repoRoot, 'src/main.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  }

  async readyz(): Promise<{ status: number; body: { ready?: boolean; leader?: boolean; synced?: boolean } }> {
    const response = await fetch(`${this.healthUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as { ready?: boolean; leader?: boolean } };
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => (await this.readyz()).status === 200, { timeoutMs, message: () => `the operator to be ready; output:\n${this.output.slice(-20).join('\n')}` });
  }

  async metrics(): Promise<string> {
    return await (await fetch(this.metricsUrl)).text();
  }

  /** The value of one sample of the Prometheus text exposition, summed over matching label sets. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await this.metrics(), name, labels);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Parses Prometheus text and sums the samples of `name` whose labels include `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const sample = new Map([...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    if (Object.entries(labels).every(([k, v]) => sample.get(k) === v)) total += Number(match[4]);
  }
  return total;
}
