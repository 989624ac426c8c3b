import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../support/kube.ts';

describe('npm run demo', () => {
  it('syncs, rotates and restarts on an existing cluster, then removes only what it created', async () => {
    const kubeconfig = inject('kubeconfigPath');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../scripts/demo.ts'), '--cluster', 'existing'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, output).toBe(0);
    expect(output).toContain('[8/8] Cleaning up');
    expect(output).toContain('Secret db: password = correct-horse-2');
    expect(output).toContain('Deployment demo-app restarted');
    expect(output).toContain('Done: a secret synced from Thalassa, rotated, and its workload restarted.');
    const namespace = /Creating namespace (thalassa-demo-[0-9a-f]+)/.exec(output)?.[1];
    expect(namespace).toBeDefined();
    // The namespace is being deleted (or gone); the shared CRDs it found installed are still there.
    const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
    const left = await core.readNamespace({ name: namespace ?? '' }).catch(() => undefined);
    expect(left === undefined || left.status?.phase === 'Terminating').toBe(true);
    expect(output).not.toContain('and the CRDs');
  }, 180_000);
});
