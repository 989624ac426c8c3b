import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/kube.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the control plane harness', () => {
  it.for(['SIGINT', 'SIGKILL'] as const)('leaves no process and no folder when its user dies by %s', async (signal, { skip }) => {
    if (inject('clusterMode') !== 'local') skip('only the local control plane starts processes');
    const fixture = join(import.meta.dirname, '../support/fixtures/hold-cluster.ts');
    const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited early with ${String(code)}`)));
    });
    const { workDir, pids } = JSON.parse(line) as { workDir: string; pids: number[] };
    expect(pids.length).toBe(4);
    expect(pids.every(isAlive)).toBe(true);
    expect(existsSync(workDir)).toBe(true);

    child.kill(signal);
    await waitFor(() => !pids.some(isAlive) && !existsSync(workDir), {
      timeoutMs: 60_000,
      message: 'etcd, kube-apiserver, kube-controller-manager and the work folder to be gone',
    });
  });
});
