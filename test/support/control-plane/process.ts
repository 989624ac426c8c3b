import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';

/**
A child process whose output goes to a log file, that can be stopped politely and then firmly.
The control plane's processes are started through this so that every one of them is reaped.
*/
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  #exited = false;
  #exitCode: number | null = null;

  constructor(name: string, command: string, args: readonly string[], logFile: string, env?: NodeJS.ProcessEnv) {
    this.name = name;
    this.logFile = logFile;
    const log = createWriteStream(logFile, { flags: 'a' });
    this.#child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.#child.stdout?.pipe(log);
    this.#child.stderr?.pipe(log);
    this.#child.on('exit', (code) => {
      this.#exited = true;
      this.#exitCode = code;
    });
    this.#child.on('error', () => {
      this.#exited = true;
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Throws with the log's tail when the process has died, so a failed start says why. */
  assertRunning(): void {
    if (this.#exited) {
      throw new Error(`${this.name} exited with code ${String(this.#exitCode)}:\n${this.tail()}`);
    }
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
