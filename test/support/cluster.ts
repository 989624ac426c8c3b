import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SupervisorReady } from './control-plane/supervisor.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
Where the tests, the demo and the benchmarks get a Kubernetes API server from:
- `local` (default): etcd + kube-apiserver + kube-controller-manager built from Go modules and run here;
- `existing`: the cluster of `KUBECONFIG` (or ~/.kube/config), e.g. a kind or k3d cluster;
- `k3s`: a K3s container through testcontainers, where a registry is reachable to pull it.
*/
export type ClusterMode = 'local' | 'existing' | 'k3s';

export interface TestCluster {
  readonly mode: ClusterMode;
  readonly kubeconfigPath: string;
  /** Present for `local` only: control of the control plane (restarts, etcd compaction, users). */
  readonly adminUrl?: string;
  stop(): Promise<void>;
}

export function clusterMode(): ClusterMode {
  const mode = process.env['THALASSA_TEST_CLUSTER'] ?? 'local';
  if (mode !== 'local' && mode !== 'existing' && mode !== 'k3s') {
    throw new Error(`THALASSA_TEST_CLUSTER must be local, existing or k3s, not "${mode}"`);
  }
  return mode;
}

/** Builds the control plane binaries when they are missing (a no-op when the cache is warm). */
export function ensureControlPlaneBinaries(): string {
  const fromEnv = process.env['THALASSA_CONTROL_PLANE_BIN'];
  if (fromEnv) return fromEnv;
  const output = execFileSync('bash', [join(repoRoot, 'tools/control-plane/build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const binDir = output.trim().split('\n').at(-1);
  if (!binDir) throw new Error('tools/control-plane/build.sh printed no bin folder');
  return binDir;
}

export async function startCluster(mode: ClusterMode = clusterMode()): Promise<TestCluster> {
  switch (mode) {
    case 'local':
      return await startLocal(ensureControlPlaneBinaries());
    case 'existing': {
      const kubeconfigPath = process.env['KUBECONFIG'] ?? join(homedir(), '.kube', 'config');
      if (!existsSync(kubeconfigPath)) throw new Error(`existing cluster mode: no kubeconfig at ${kubeconfigPath}`);
      return { mode, kubeconfigPath, stop: () => Promise.resolve() };
    }
    case 'k3s':
      return await startK3s();
  }
}

async function startLocal(binDir: string): Promise<TestCluster> {
  const supervisorScript = join(repoRoot, 'test/support/control-plane/supervisor.ts');
  // Detached: a terminal's Ctrl-C reaches the supervisor only through us (or our death), so it
  // always gets to tear down in order.
  const child = spawn(process.execPath, [supervisorScript, '--bin-dir', binDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<SupervisorReady>((resolve, reject) => {
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as SupervisorReady);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    void exited.then((code) => reject(new Error(`control plane supervisor exited with code ${String(code)}`)));
  });
  child.unref();
  return {
    mode: 'local',
    kubeconfigPath: ready.kubeconfigPath,
    adminUrl: ready.adminUrl,
    stop: async () => {
      // Unreferenced so that it never keeps a process alive by itself; while stopping, the wait
      // for its exit must.
      child.ref();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startK3s(): Promise<TestCluster> {
  const image = process.env['K3S_IMAGE'] ?? 'rancher/k3s:v1.37.2-k3s1';
  const moduleName = '@testcontainers/k3s';
  const { K3sContainer } = (await import(moduleName)) as {
    K3sContainer: new (image: string) => {
      start(): Promise<{ getKubeConfig(): string; stop(): Promise<unknown> }>;
    };
  };
  const container = await new K3sContainer(image).start();
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'thalassa-k3s-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, container.getKubeConfig(), { mode: 0o600 });
  return {
    mode: 'k3s',
    kubeconfigPath,
    stop: async () => {
      await container.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls the local control plane's supervisor. */
export async function controlPlaneCommand<T>(adminUrl: string, command: string, params: Record<string, string | string[]> = {}): Promise<T> {
  const url = new URL(command, adminUrl);
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v);
  }
  const response = await fetch(url, { method: 'POST' });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(`control plane ${command}: ${body.error ?? response.status}`);
  return body;
}
