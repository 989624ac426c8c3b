import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedProcess } from './process.ts';
import { createClientCertificate, createPki, type ClientCertificate, type ControlPlanePki } from './pki.ts';

export interface LocalControlPlaneOptions {
  /** Folder holding etcd, kube-apiserver, kube-controller-manager and kubectl. */
  readonly binDir: string;
  /** Folder the control plane owns: certificates, etcd data, logs, kubeconfig. Removed by the caller. */
  readonly workDir: string;
  readonly startTimeoutMs?: number;
  readonly progress?: (message: string) => void;
}

export interface ControlPlaneEndpoints {
  readonly server: string;
  readonly etcdUrl: string;
  readonly kubeconfigPath: string;
  readonly workDir: string;
}

/**
etcd + kube-apiserver + kube-controller-manager on free loopback ports, envtest-style, with the
controller-manager's garbage collector and namespace controller so that ownerReferences and
namespace deletion behave as in a real cluster, and its Deployment and ReplicaSet controllers so that
a restarted Deployment really rolls its ReplicaSets and Pods over (no node runs them: they stay
Pending, unless a test marks them Ready the way a kubelet would).
*/
export class LocalControlPlane {
  readonly #options: LocalControlPlaneOptions;
  readonly #processes = new Map<string, ManagedProcess>();
  #pki: ControlPlanePki | undefined;
  #endpoints: ControlPlaneEndpoints | undefined;
  #apiServerArgs: string[] = [];
  #apiServerPort = 0;

  constructor(options: LocalControlPlaneOptions) {
    this.#options = options;
  }

  get endpoints(): ControlPlaneEndpoints {
    if (!this.#endpoints) throw new Error('control plane not started');
    return this.#endpoints;
  }

  get pids(): number[] {
    return [...this.#processes.values()].flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  }

  async start(): Promise<ControlPlaneEndpoints> {
    const { binDir, workDir } = this.#options;
    const progress = this.#options.progress ?? (() => undefined);
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 90_000);
    for (const bin of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
      if (!existsSync(join(binDir, bin))) throw new Error(`missing ${bin} in ${binDir}: run tools/control-plane/build.sh`);
    }
    const certDir = join(workDir, 'pki');
    const logDir = join(workDir, 'logs');
    mkdirSync(certDir, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    const pki = createPki(certDir);
    this.#pki = pki;

    const [etcdPort, peerPort, apiPort, kcmPort] = (await freePorts(4)) as [number, number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    progress(`starting etcd on ${etcdUrl}`);
    this.#spawn('etcd', join(binDir, 'etcd'), [
      '--name=default',
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await this.#waitFor('etcd', deadline, async () => (await probe(`${etcdUrl}/health`)) === 200);

    const server = `https://127.0.0.1:${apiPort}`;
    this.#apiServerPort = apiPort;
    this.#apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--profiling=false',
      ...(hasDefaultRoute() ? [] : ['--advertise-address=127.0.0.1']),
    ];
    progress(`starting kube-apiserver on ${server}`);
    this.#spawn('kube-apiserver', join(binDir, 'kube-apiserver'), this.#apiServerArgs);
    const tls = { ca: pki.caCert, ...pki.admin };
    await this.#waitFor('kube-apiserver', deadline, async () => (await probe(`${server}/readyz`, tls)) === 200);
    await this.#waitFor(
      'the default namespace',
      deadline,
      async () => (await probe(`${server}/api/v1/namespaces/default`, tls)) === 200,
    );

    const kubeconfigPath = join(workDir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigFor(server, pki.caCert, 'admin', pki.admin), { mode: 0o600 });

    progress('starting kube-controller-manager');
    this.#spawn('kube-controller-manager', join(binDir, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(workDir, 'kcm')}`,
      '--leader-elect=false',
      '--controllers=garbagecollector,namespace,serviceaccount,deployment,replicaset',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
    ]);
    await this.#waitFor(
      'kube-controller-manager',
      deadline,
      async () => (await probe(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })) === 200,
    );
    this.#endpoints = { server, etcdUrl, kubeconfigPath, workDir };
    progress('control plane ready');
    return this.#endpoints;
  }

  /** Writes a kubeconfig for another user, authenticated by a client certificate of the test CA. */
  writeUserKubeconfig(user: string, groups: readonly string[]): string {
    if (!this.#pki) throw new Error('control plane not started');
    const cert = createClientCertificate(this.#pki.dir, user, groups);
    const path = join(this.#options.workDir, `kubeconfig-${user}`);
    writeFileSync(path, kubeconfigFor(this.endpoints.server, this.#pki.caCert, user, cert), { mode: 0o600 });
    return path;
  }

  /** Stops and starts kube-apiserver on the same port: watches break and must be re-established. */
  async restartApiServer(downMs = 0): Promise<void> {
    const current = this.#processes.get('kube-apiserver');
    await current?.stop();
    await sleep(downMs);
    const pki = this.#pki;
    if (!pki) throw new Error('control plane not started');
    this.#spawn('kube-apiserver', join(this.#options.binDir, 'kube-apiserver'), this.#apiServerArgs);
    const server = `https://127.0.0.1:${this.#apiServerPort}`;
    await this.#waitFor(
      'kube-apiserver',
      Date.now() + 90_000,
      async () => (await probe(`${server}/readyz`, { ca: pki.caCert, ...pki.admin })) === 200,
    );
  }

  /** Compacts etcd up to its current revision, so that watches resuming from older versions get 410 Gone. */
  async compactEtcd(): Promise<number> {
    const { etcdUrl } = this.endpoints;
    const status = JSON.parse(await post(`${etcdUrl}/v3/kv/range`, { key: Buffer.from('\0').toString('base64') })) as {
      header?: { revision?: string };
    };
    const revision = Number(status.header?.revision ?? 0);
    await post(`${etcdUrl}/v3/kv/compaction`, { revision: String(revision), physical: true });
    return revision;
  }

  async stop(): Promise<void> {
    // The API server goes first so that it does not log etcd errors; etcd last.
    for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) {
      await this.#processes.get(name)?.stop();
    }
  }

  #spawn(name: string, command: string, args: readonly string[]): void {
    const logFile = join(this.#options.workDir, 'logs', `${name}.log`);
    this.#processes.set(name, new ManagedProcess(name, command, args, logFile));
  }

  async #waitFor(what: string, deadline: number, ready: () => Promise<boolean>): Promise<void> {
    for (;;) {
      for (const p of this.#processes.values()) p.assertRunning();
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        const tails = [...this.#processes.values()].map((p) => `--- ${p.name}\n${p.tail()}`).join('\n');
        throw new Error(`timed out waiting for ${what}\n${tails}`);
      }
      await sleep(250);
    }
  }
}

function kubeconfigFor(server: string, caFile: string, user: string, cert: ClientCertificate): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    `  cluster: {server: "${server}", certificate-authority-data: "${b64(caFile)}"}`,
    'users:',
    `- name: ${user}`,
    `  user: {client-certificate-data: "${b64(cert.cert)}", client-key-data: "${b64(cert.key)}"}`,
    'contexts:',
    '- name: local',
    `  context: {cluster: local, user: ${user}}`,
    'current-context: local',
    '',
  ].join('\n');
}

/**
Without a default route kube-apiserver cannot pick an advertise address and exits; loopback is
then the only choice (it logs complaints about the kubernetes Service endpoints, which are harmless).
*/
function hasDefaultRoute(): boolean {
  try {
    return readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => line.split(/\s+/)[1] === '00000000');
  } catch {
    return true;
  }
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return server;
    }),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface ProbeTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecure?: boolean;
}

async function probe(url: string, tls: ProbeTls = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    const options = {
      timeout: 5_000,
      ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key ? { key: readFileSync(tls.key) } : {}),
      ...(tls.insecure ? { rejectUnauthorized: false } : {}),
    };
    const request = url.startsWith('https:') ? httpsRequest(url, options) : httpRequest(url, options);
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end();
  });
}

async function post(url: string, body: unknown): Promise<string> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text}`);
  return text;
}
