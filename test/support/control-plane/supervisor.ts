/**
The process that owns a local control plane. It is started by the test harness, the demo or the
benchmarks, prints one JSON line when the control plane is ready, and tears everything down
(processes and work folder) when it is told to stop or when its parent goes away, also when the
parent was killed. Usage: node supervisor.ts --bin-dir DIR
*/
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalControlPlane } from './local-control-plane.ts';

export const workDirPrefix = 'thalassa-control-plane-';

export interface SupervisorReady {
  readonly ready: true;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly workDir: string;
  readonly adminUrl: string;
  readonly supervisorPid: number;
  readonly pids: readonly number[];
}

interface SupervisorRecord {
  readonly supervisorPid: number;
  readonly pids: readonly number[];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes what an earlier supervisor left when it was killed outright (SIGKILL, OOM). */
function reapAbandoned(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(workDirPrefix)) continue;
    const dir = join(tmpdir(), entry);
    let record: SupervisorRecord | undefined;
    try {
      record = JSON.parse(readFileSync(join(dir, 'supervisor.json'), 'utf8')) as SupervisorRecord;
    } catch {
      record = undefined;
    }
    if (record && isAlive(record.supervisorPid)) continue;
    for (const pid of record?.pids ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'bin-dir': { type: 'string' } } });
  const binDir = values['bin-dir'];
  if (!binDir) throw new Error('--bin-dir is required');
  reapAbandoned();
  const workDir = mkdtempSync(join(tmpdir(), workDirPrefix));
  const recordFile = join(workDir, 'supervisor.json');
  const plane = new LocalControlPlane({
    binDir,
    workDir,
    progress: (message) => process.stderr.write(`control-plane: ${message}\n`),
  });
  const record = (): void => {
    writeFileSync(recordFile, JSON.stringify({ supervisorPid: process.pid, pids: plane.pids }));
  };
  record();

  let stopping: Promise<void> | undefined;
  const stop = async (code: number): Promise<void> => {
    stopping ??= (async () => {
      admin.close();
      await plane.stop().catch(() => undefined);
      rmSync(workDir, { recursive: true, force: true });
      process.exit(code);
    })();
    await stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => void stop(0));
  }
  // The parent holds our stdin open: when it closes, the parent is gone, however it died.
  process.stdin.on('close', () => void stop(0));
  process.stdin.resume();

  const admin = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const handle = async (): Promise<unknown> => {
      switch (url.pathname) {
        case '/restart-apiserver': {
          await plane.restartApiServer(Number(url.searchParams.get('downMs') ?? 0));
          record();
          return { restarted: true };
        }
        case '/compact-etcd':
          return { revision: await plane.compactEtcd() };
        case '/user-kubeconfig': {
          const user = url.searchParams.get('user') ?? 'user';
          const groups = url.searchParams.getAll('group');
          return { kubeconfigPath: plane.writeUserKubeconfig(user, groups) };
        }
        default:
          throw Object.assign(new Error(`unknown command ${url.pathname}`), { status: 404 });
      }
    };
    handle().then(
      (body) => reply(200, body),
      (error: unknown) => reply((error as { status?: number }).status ?? 500, { error: String(error) }),
    );
  });
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  const address = admin.address();
  if (address === null || typeof address === 'string') throw new Error('admin server has no port');

  try {
    const endpoints = await plane.start();
    record();
    const ready: SupervisorReady = {
      ready: true,
      server: endpoints.server,
      kubeconfigPath: endpoints.kubeconfigPath,
      workDir,
      adminUrl: `http://127.0.0.1:${address.port}`,
      supervisorPid: process.pid,
      pids: plane.pids,
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  } catch (error) {
    process.stderr.write(`control-plane: ${error instanceof Error ? error.message : String(error)}\n`);
    await stop(1);
  }
}

await main();
