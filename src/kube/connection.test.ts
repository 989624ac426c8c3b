import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { createClientCertificate, createPki, type ControlPlanePki } from '../../test/support/control-plane/pki.ts';
import { kubeconfigConnection, loadConnection, mergeKubeconfigs } from './connection.ts';
import { KubeClient } from './kube-client.ts';

let dir: string;
let pki: ControlPlanePki;
let serverUrl: string;
let proxyUrl: string;
const connects: string[] = [];
const servers: Server[] = [];

/** The API server stand-in: TLS with the test CA, asking for a client certificate, answering with who the caller is. */
async function startApiServer(): Promise<string> {
  const server = createHttpsServer(
    { key: readFileSync(pki.servingKey), cert: readFileSync(pki.servingCert), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: false },
    (request, response) => {
      const peer = (request.socket as TLSSocket).getPeerCertificate();
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          certificateCN: (request.socket as TLSSocket).authorized ? (peer.subject.CN ?? null) : null,
          authorization: request.headers.authorization ?? null,
          impersonateUser: request.headers['impersonate-user'] ?? null,
        }),
      );
    },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An HTTP CONNECT proxy that records what it tunnels to; `Proxy-Authorization: Basic` other than user:secret is refused. */
async function startProxy(): Promise<string> {
  const proxy = createHttpServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request: { url?: string; headers: Record<string, string | undefined> }, client: Socket, head: Buffer) => {
    const auth = request.headers['proxy-authorization'];
    if (auth !== undefined && auth !== `Basic ${Buffer.from('user:secret').toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    connects.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = netConnect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  servers.push(proxy);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'connection-test-'));
  mkdirSync(join(dir, 'pki'));
  pki = createPki(join(dir, 'pki'));
  serverUrl = await startApiServer();
  proxyUrl = await startProxy();
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map(async (server) => await new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

interface Kubeconfig {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: Record<string, unknown> }[];
  'current-context'?: string;
}

let written = 0;
/** Writes a kubeconfig (in `folder` under the temp dir) and returns its path. */
function kubeconfig(config: Kubeconfig, folder = `k${written}`): string {
  written++;
  mkdirSync(join(dir, folder), { recursive: true });
  const file = join(dir, folder, `config-${written}`);
  writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', ...config }));
  return file;
}

function single(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return kubeconfig({
    clusters: [{ name: 'c', cluster: { server: serverUrl, 'certificate-authority': pki.caCert, ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });
}

async function whoAmI(file: string): Promise<{ certificateCN: string | null; authorization: string | null; impersonateUser: string | null }> {
  const kube = new KubeClient(await kubeconfigConnection(file));
  try {
    return await kube.get('/whoami');
  } finally {
    kube.close();
  }
}

async function refusal(file: string): Promise<string> {
  const error = await kubeconfigConnection(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

/** A plugin that prints `credential` and counts its runs, and records KUBERNETES_EXEC_INFO. */
function execPlugin(name: string, credential: unknown, exitCode = 0): { command: string; runs: () => number; info: () => unknown } {
  const folder = join(dir, `plugin-${name}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'credential.json'), JSON.stringify(credential));
  const command = join(folder, 'plugin.sh');
  writeFileSync(
    command,
    [
      '#!/bin/sh',
      `echo run >> '${join(folder, 'runs')}'`,
      `printf '%s' "$KUBERNETES_EXEC_INFO" > '${join(folder, 'info.json')}'`,
      exitCode === 0 ? `cat '${join(folder, 'credential.json')}'` : `echo 'token expired, log in again' >&2; exit ${exitCode}`,
      '',
    ].join('\n'),
  );
  chmodSync(command, 0o755);
  const runsFile = join(folder, 'runs');
  return {
    command,
    runs: () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter((l) => l !== '').length : 0),
    info: () => JSON.parse(readFileSync(join(folder, 'info.json'), 'utf8')) as unknown,
  };
}

describe('a single kubeconfig', () => {
  it('authenticates with a client certificate, files relative to the kubeconfig', async () => {
    const cert = createClientCertificate(join(dir, 'pki'), 'file-user', []);
    const file = kubeconfig({
      clusters: [{ name: 'c', cluster: { server: serverUrl, 'certificate-authority': '../pki/ca.crt' } }],
      users: [{ name: 'u', user: { 'client-certificate': '../pki/file-user.crt', 'client-key': `../pki/file-user.key` } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    });
    expect(cert.cert).toContain('file-user');
    expect((await whoAmI(file)).certificateCN).toBe('file-user');
  });

  it('sends a token', async () => {
    expect((await whoAmI(single({ token: 'abc' }))).authorization).toBe('Bearer abc');
  });

  it('refuses two authentication methods, half a certificate, and dangling names, naming the field', async () => {
    expect(await refusal(single({ token: 'a', username: 'b', password: 'c' }))).toMatch(/users\[u\]\.user: both a token and a username\/password/);
    expect(await refusal(single({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' }, 'auth-provider': { name: 'oidc' } }))).toMatch(
      /users\[u\]\.user: exec and auth-provider cannot both be set/,
    );
    expect(await refusal(single({ 'client-certificate': pki.admin.cert }))).toMatch(/client-certificate without client-key/);
    expect(await refusal(single({ 'client-certificate': 'missing.crt', 'client-key': 'missing.key' }))).toMatch(/users\[u\]\.user\.client-certificate: cannot read/);
    const dangling = kubeconfig({ clusters: [], users: [], contexts: [{ name: 'ctx', context: { cluster: 'nowhere', user: 'u' } }], 'current-context': 'ctx' });
    expect(await refusal(dangling)).toMatch(/contexts\[ctx\]\.context\.cluster: no cluster named "nowhere"/);
    expect(await refusal(kubeconfig({ clusters: [] }))).toMatch(/no current-context/);
    expect(await refusal(join(dir, 'does-not-exist'))).toMatch(/does-not-exist: cannot be read/);
  });

  it('says where a kubeconfig is not YAML without quoting its lines, which may hold a token', async () => {
    mkdirSync(join(dir, 'broken'), { recursive: true });
    const file = join(dir, 'broken', 'config');
    writeFileSync(file, 'users:\n- name: u\n  user:\n    token: CANARY-KUBECONFIG-TOKEN\n   bad: [\n');
    const message = await refusal(file);
    expect(message).toMatch(/cannot be read as a kubeconfig: .*line 5, column 1/);
    expect(message).not.toContain('CANARY-KUBECONFIG-TOKEN');
  });
});

describe('several kubeconfig files (KUBECONFIG=a:b)', () => {
  it('takes each name from the first file that defines it, and current-context from the first that sets one', async () => {
    const first = kubeconfig(
      {
        clusters: [{ name: 'c', cluster: { server: serverUrl, 'certificate-authority': '../pki/ca.crt' } }],
        users: [{ name: 'u', user: { token: 'from-first' } }],
      },
      'merge-a',
    );
    const second = kubeconfig(
      {
        clusters: [{ name: 'c', cluster: { server: 'https://second.invalid' } }],
        users: [{ name: 'u', user: { token: 'from-second' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      },
      'merge-b',
    );
    const third = kubeconfig({ 'current-context': 'other', contexts: [{ name: 'other', context: { cluster: 'c', user: 'u' } }] }, 'merge-c');
    const merged = mergeKubeconfigs([first, join(dir, 'missing'), second, third]);
    expect(merged.currentContext).toBe('ctx');
    expect(merged.clusters.get('c')?.file).toBe(first);
    const connection = await kubeconfigConnection(`${first}:${join(dir, 'missing')}:${second}:${third}`);
    expect(connection.server.toString()).toBe(`${serverUrl}/`);
    expect(await connection.authorization()).toBe('Bearer from-first');
    // The CA path of the first file is relative to the first file's folder.
    expect((await whoAmI(`${first}:${second}`)).authorization).toBe('Bearer from-first');
  });

  it('is what loadConnection reads from KUBECONFIG when no file is given', async () => {
    const a = kubeconfig({ users: [{ name: 'u', user: { token: 'env' } }] });
    const b = single({ token: 'ignored' });
    vi.stubEnv('KUBECONFIG', `${a}:${b}`);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', undefined);
    try {
      expect(await (await loadConnection()).authorization()).toBe('Bearer env');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses a list of which no file exists', async () => {
    expect(await refusal(`${join(dir, 'nope-1')}:${join(dir, 'nope-2')}`)).toMatch(/none of .*nope-1.*nope-2 exists/);
  });
});

describe('impersonation', () => {
  it('sends as, as-uid, as-groups and as-user-extra as Impersonate-* headers', async () => {
    const connection = await kubeconfigConnection(
      single({ token: 't', as: 'jane', 'as-uid': '42', 'as-groups': ['dev', 'ops'], 'as-user-extra': { 'scopes.example.com/v 1': ['a', 'b'] } }),
    );
    expect(connection.headers).toEqual({
      'impersonate-user': 'jane',
      'impersonate-uid': '42',
      'impersonate-group': ['dev', 'ops'],
      'impersonate-extra-scopes.example.com%2Fv%201': ['a', 'b'],
    });
    expect(connection.description).toContain('as jane');
    expect((await whoAmI(single({ token: 't', as: 'jane' }))).impersonateUser).toBe('jane');
  });

  it('refuses groups without a user to impersonate', async () => {
    expect(await refusal(single({ token: 't', 'as-groups': ['dev'] }))).toMatch(/users\[u\]\.user: as-uid, as-groups and as-user-extra need "as"/);
    expect(await refusal(single({ token: 't', as: 'jane', 'as-groups': 'dev' }))).toMatch(/as-groups must be a list of strings/);
  });
});

describe('proxy-url', () => {
  it('tunnels through an HTTP proxy with CONNECT, TLS to the API server inside', async () => {
    const before = connects.length;
    const cert = createClientCertificate(join(dir, 'pki'), 'proxied-user', []);
    const file = single({ 'client-certificate': cert.cert, 'client-key': cert.key }, { 'proxy-url': proxyUrl.replace('http://', 'http://user:secret@') });
    const connection = await kubeconfigConnection(file);
    expect(connection.description).toContain(`through proxy ${proxyUrl}`);
    expect(connection.description).not.toContain('secret');
    expect((await whoAmI(file)).certificateCN).toBe('proxied-user');
    expect(connects.slice(before)).toEqual([new URL(serverUrl).host]);
  });

  it('says which proxy refused the tunnel', async () => {
    const file = single({ token: 't' }, { 'proxy-url': proxyUrl.replace('http://', 'http://user:wrong@') });
    await expect(whoAmI(file)).rejects.toThrow(/proxy http:\/\/127\.0\.0\.1:\d+ refused CONNECT .*407/);
  });

  it('refuses SOCKS and other proxies at start-up, naming the field', async () => {
    expect(await refusal(single({ token: 't' }, { 'proxy-url': 'socks5://127.0.0.1:1080' }))).toMatch(/clusters\[c\]\.cluster\.proxy-url: SOCKS proxies .* are not supported/);
    expect(await refusal(single({ token: 't' }, { 'proxy-url': 'ftp://x' }))).toMatch(/proxy-url: ftp:\/\/ proxies are not supported/);
  });
});

describe('exec plugins', () => {
  const v1 = 'client.authentication.k8s.io/v1';

  it('uses the client certificate an exec plugin returns, and runs it once while it is valid', async () => {
    const cert = createClientCertificate(join(dir, 'pki'), 'exec-user', ['exec-group']);
    const plugin = execPlugin('cert', {
      apiVersion: v1,
      kind: 'ExecCredential',
      status: { clientCertificateData: readFileSync(cert.cert, 'utf8'), clientKeyData: readFileSync(cert.key, 'utf8'), expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const file = single({ exec: { apiVersion: v1, command: plugin.command, interactiveMode: 'Never', provideClusterInfo: true } });
    const connection = await kubeconfigConnection(file);
    const kube = new KubeClient(connection);
    try {
      const answers = await Promise.all([kube.get('/a'), kube.get('/b'), kube.get('/c')]);
      expect(answers.map((a) => (a as { certificateCN: string }).certificateCN)).toEqual(['exec-user', 'exec-user', 'exec-user']);
      expect((answers[0] as { authorization: string | null }).authorization).toBeNull();
    } finally {
      kube.close();
    }
    expect(plugin.runs()).toBe(1);
    expect(plugin.info()).toMatchObject({ apiVersion: v1, kind: 'ExecCredential', spec: { interactive: false, cluster: { server: serverUrl, 'certificate-authority-data': readFileSync(pki.caCert).toString('base64') } } });
    // A 401 drops the credential: the next request runs the plugin again.
    connection.unauthorized?.();
    await connection.clientCertificate?.();
    expect(plugin.runs()).toBe(2);
  });

  it('sends the token an exec plugin returns, and runs it again once it has expired', async () => {
    const plugin = execPlugin('token', { apiVersion: v1, kind: 'ExecCredential', status: { token: 'exec-token', expirationTimestamp: new Date(Date.now() - 1000).toISOString() } });
    const file = single({ exec: { apiVersion: v1, command: plugin.command, env: [{ name: 'PLUGIN_SETTING', value: 'x' }] } });
    const connection = await kubeconfigConnection(file);
    expect(await connection.authorization()).toBe('Bearer exec-token');
    expect(await connection.authorization()).toBe('Bearer exec-token');
    expect(plugin.runs()).toBe(2);
    expect(plugin.info()).toEqual({ apiVersion: v1, kind: 'ExecCredential', spec: { interactive: false } });
    expect(await connection.clientCertificate?.()).toBeUndefined();
  });

  it('reports a plugin that fails, with what it said', async () => {
    const plugin = execPlugin('failing', {}, 3);
    const connection = await kubeconfigConnection(single({ exec: { apiVersion: v1, command: plugin.command } }));
    await expect(connection.authorization()).rejects.toThrow(/exec plugin .*plugin\.sh exited with code 3: token expired, log in again/);
  });

  it('refuses half a certificate, and an answer of another apiVersion', async () => {
    const half = execPlugin('half', { apiVersion: v1, kind: 'ExecCredential', status: { clientCertificateData: 'x' } });
    await expect((await kubeconfigConnection(single({ exec: { apiVersion: v1, command: half.command } }))).authorization()).rejects.toThrow(
      /clientCertificateData without clientKeyData/,
    );
    const other = execPlugin('other', { apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'x' } });
    await expect((await kubeconfigConnection(single({ exec: { apiVersion: v1, command: other.command } }))).authorization()).rejects.toThrow(/not the client\.authentication\.k8s\.io\/v1 asked for/);
  });

  it('refuses at start-up what cannot run unattended or is not understood', async () => {
    expect(await refusal(single({ exec: { apiVersion: v1, command: 'x', interactiveMode: 'Always' } }))).toMatch(/users\[u\]\.user\.exec\.interactiveMode Always/);
    expect(await refusal(single({ exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }))).toMatch(/users\[u\]\.user\.exec\.apiVersion .* is not supported/);
    expect(await refusal(single({ exec: { apiVersion: v1 } }))).toMatch(/users\[u\]\.user\.exec\.command is missing/);
  });

  it('runs a relative command from the kubeconfig\'s folder, as kubectl does', async () => {
    const plugin = execPlugin('relative', { apiVersion: v1, kind: 'ExecCredential', status: { token: 'relative' } });
    const file = kubeconfig(
      {
        clusters: [{ name: 'c', cluster: { server: serverUrl } }],
        users: [{ name: 'u', user: { exec: { apiVersion: v1, command: './plugin.sh' } } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      },
      'plugin-relative',
    );
    expect(await (await kubeconfigConnection(file)).authorization()).toBe('Bearer relative');
    expect(plugin.runs()).toBe(1);
  });
});
