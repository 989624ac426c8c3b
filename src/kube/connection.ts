/**
Where the Kubernetes API is and how to authenticate to it: kubeconfig files, or the in-cluster
ServiceAccount. Client certificates, bearer tokens (also from a file, re-read as bound tokens
rotate), basic auth, exec plugins (tokens and client certificates, exec-credential.ts),
impersonation (`as`, `as-uid`, `as-groups`, `as-user-extra`) and an HTTP CONNECT `proxy-url` are
handled here. Several files (KUBECONFIG=a:b) are merged as client-go merges them. Only
auth-provider plugins (the legacy gcp, azure and oidc providers) are delegated to
@kubernetes/client-node, loaded only for such kubeconfigs, because that library costs about
80 MiB of memory to load. What cannot be honoured is refused at start-up, naming the field.
*/
import { readFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ExecCredentialSource, KubeconfigFieldError, parseExecConfig, type ExecClusterInfo } from './exec-credential.ts';
import { proxyProtocols, redactedProxy } from './proxy-tunnel.ts';

export interface ClientCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface KubeConnection {
  readonly server: URL;
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName: string | undefined;
  /** The Authorization header for the next request, if the user authenticates by header. */
  authorization(): Promise<string | undefined>;
  /**
  A client certificate that may change between requests (an exec plugin's); when present, the
  certificate it returns is used instead of `cert` and `key`.
  */
  clientCertificate?(): Promise<ClientCertificate | undefined>;
  /** Sent with every request: the impersonation headers (Impersonate-User, -Uid, -Group, -Extra-*). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
  /** The server answered 401: a plugin's cached credential is dropped, and the next request asks the plugin again. */
  unauthorized?(): void;
  /** The kubeconfig's `proxy-url`: connections are CONNECT tunnels through it. */
  readonly proxy?: URL | undefined;
  /** A description without secrets, for logs. */
  readonly description: string;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';
const tokenRereadMs = 60_000;

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** A token read from a file, re-read at most every minute. */
function tokenFromFile(file: string): () => Promise<string> {
  let cached: { token: string; readAt: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.readAt > tokenRereadMs) cached = { token: (await readFile(file, 'utf8')).trim(), readAt: Date.now() };
    return cached.token;
  };
}

export function inClusterConnection(): KubeConnection {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new KubeConfigError('not running in a cluster: KUBERNETES_SERVICE_HOST is not set');
  const token = tokenFromFile(join(serviceAccountDir, 'token'));
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    ca: readFileSync(join(serviceAccountDir, 'ca.crt')),
    cert: undefined,
    key: undefined,
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    authorization: async () => `Bearer ${await token()}`,
    description: 'in-cluster ServiceAccount',
  };
}

type Entry = Record<string, unknown>;

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
The yaml library's message quotes the offending lines after its first one ("... at line 5,
column 1:" then the source): in a kubeconfig those lines can hold a token or a key, so only the
first line, which names the problem and the position, is kept.
*/
function yamlErrorWithoutSource(error: unknown): string {
  return (messageOf(error).split('\n')[0] ?? '').replace(/:\s*$/, '');
}

/** An entry of a kubeconfig's clusters, users or contexts, with the file that defined it: its relative paths are relative to that file's folder. */
export interface DefinedEntry {
  readonly value: Entry;
  readonly file: string;
}

export interface MergedKubeconfig {
  readonly files: readonly string[];
  readonly currentContext: string | undefined;
  readonly clusters: ReadonlyMap<string, DefinedEntry>;
  readonly users: ReadonlyMap<string, DefinedEntry>;
  readonly contexts: ReadonlyMap<string, DefinedEntry>;
}

/** A KUBECONFIG-style list of files (colon-separated), without empty entries. */
export function kubeconfigFiles(value: string): string[] {
  return value.split(delimiter).filter((f) => f !== '');
}

/**
Reads kubeconfig files and merges them as client-go does for KUBECONFIG: a cluster, user or
context is taken from the first file that defines its name, and `current-context` from the first
file that sets one. Files of a list that do not exist are skipped; a single file must exist.
*/
export function mergeKubeconfigs(files: readonly string[]): MergedKubeconfig {
  const present = files.length === 1 ? files : files.filter((f) => existsSync(f));
  if (present.length === 0) throw new KubeConfigError(`no kubeconfig: none of ${files.join(', ')} exists`);
  const clusters = new Map<string, DefinedEntry>();
  const users = new Map<string, DefinedEntry>();
  const contexts = new Map<string, DefinedEntry>();
  let currentContext: string | undefined;
  for (const file of present) {
    let config: unknown;
    try {
      config = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new KubeConfigError(`${file}: cannot be read as a kubeconfig: ${yamlErrorWithoutSource(error)}`);
    }
    if (config === null || config === undefined) continue;
    if (!isEntry(config)) throw new KubeConfigError(`${file}: not a kubeconfig (expected a mapping with clusters, users and contexts)`);
    currentContext ??= text(config['current-context']);
    for (const [list, field, merged] of [
      ['clusters', 'cluster', clusters],
      ['users', 'user', users],
      ['contexts', 'context', contexts],
    ] as const) {
      const entries = config[list];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) throw new KubeConfigError(`${file}: ${list} must be a list`);
      for (const entry of entries as unknown[]) {
        const name = isEntry(entry) ? text(entry['name']) : undefined;
        if (!isEntry(entry) || name === undefined) throw new KubeConfigError(`${file}: every entry of ${list} needs a name`);
        if (merged.has(name)) continue;
        const value = entry[field];
        merged.set(name, { value: isEntry(value) ? value : {}, file });
      }
    }
  }
  return { files: present, currentContext, clusters, users, contexts };
}

function material(entry: DefinedEntry, dataKey: string, fileKey: string, field: string): Buffer | undefined {
  const data = text(entry.value[dataKey]);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = text(entry.value[fileKey]);
  if (file === undefined) return undefined;
  const path = isAbsolute(file) ? file : join(dirname(entry.file), file);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KubeConfigError(`${entry.file}: ${field}.${fileKey}: cannot read ${path}: ${messageOf(error)}`);
  }
}

/** `proxy-url`: an HTTP or HTTPS proxy that allows CONNECT; anything else is refused. */
function proxyFrom(value: unknown, field: string): URL | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new KubeConfigError(`${field} is not a URL`);
  }
  if (url.protocol.startsWith('socks')) {
    throw new KubeConfigError(`${field}: SOCKS proxies (${url.protocol}//) are not supported; use an HTTP or HTTPS proxy that allows CONNECT`);
  }
  if (!(proxyProtocols as readonly string[]).includes(url.protocol)) throw new KubeConfigError(`${field}: ${url.protocol}// proxies are not supported; use http:// or https://`);
  return url;
}

/** RFC 7230 token characters, which may stand in a header name unescaped (client-go's headerKeyEscape). */
function escapeHeaderKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /^[A-Za-z0-9!#$&'*+.^_`|~-]$/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `as`, `as-uid`, `as-groups`, `as-user-extra`: the Impersonate-* headers, as kubectl sends them. */
function impersonationHeaders(user: Entry, field: string): Record<string, string | string[]> | undefined {
  const as = text(user['as']);
  const uid = text(user['as-uid']);
  const groups = user['as-groups'] ?? [];
  const extra = user['as-user-extra'] ?? {};
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) throw new KubeConfigError(`${field}.as-groups must be a list of strings`);
  if (!isEntry(extra) || !Object.values(extra).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
    throw new KubeConfigError(`${field}.as-user-extra must map keys to lists of strings`);
  }
  if (as === undefined) {
    if (uid !== undefined || groups.length > 0 || Object.keys(extra).length > 0) {
      throw new KubeConfigError(`${field}: as-uid, as-groups and as-user-extra need "as", the user to impersonate`);
    }
    return undefined;
  }
  const headers: Record<string, string | string[]> = { 'impersonate-user': as };
  if (uid !== undefined) headers['impersonate-uid'] = uid;
  if (groups.length > 0) headers['impersonate-group'] = groups;
  for (const [key, values] of Object.entries(extra as Record<string, string[]>)) headers[`impersonate-extra-${escapeHeaderKey(key)}`] = values;
  return headers;
}

/** Reads kubeconfig files (a path, a KUBECONFIG-style list, or a list): the current context's cluster and user. */
export async function kubeconfigConnection(file: string | readonly string[]): Promise<KubeConnection> {
  const files = typeof file === 'string' ? kubeconfigFiles(file) : [...file];
  if (files.length === 0) throw new KubeConfigError('no kubeconfig file given');
  const config = mergeKubeconfigs(files);
  const where = config.files.join(delimiter);
  const contextName = config.currentContext;
  if (contextName === undefined) throw new KubeConfigError(`${where}: no current-context`);
  const context = config.contexts.get(contextName);
  if (!context) throw new KubeConfigError(`${where}: current-context "${contextName}" names no context`);
  const contextField = `${context.file}: contexts[${contextName}].context`;
  const clusterName = text(context.value['cluster']);
  const cluster = clusterName === undefined ? undefined : config.clusters.get(clusterName);
  if (!cluster) throw new KubeConfigError(`${contextField}.cluster: no cluster named "${clusterName ?? ''}"`);
  const userName = text(context.value['user']);
  const user = userName === undefined ? undefined : config.users.get(userName);
  if (userName !== undefined && !user) throw new KubeConfigError(`${contextField}.user: no user named "${userName}"`);
  const clusterField = `clusters[${clusterName ?? ''}].cluster`;
  const server = text(cluster.value['server']);
  if (server === undefined) throw new KubeConfigError(`${cluster.file}: ${clusterField}.server is missing`);
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch {
    throw new KubeConfigError(`${cluster.file}: ${clusterField}.server is not a URL`);
  }
  const proxy = proxyFrom(cluster.value['proxy-url'], `${cluster.file}: ${clusterField}.proxy-url`);
  const ca = material(cluster, 'certificate-authority-data', 'certificate-authority', clusterField);
  const insecureSkipTlsVerify = cluster.value['insecure-skip-tls-verify'] === true;
  const tlsServerName = text(cluster.value['tls-server-name']);

  const u = user?.value ?? {};
  const userField = `${user?.file ?? where}: users[${userName ?? ''}].user`;
  const userRelative = `users[${userName ?? ''}].user`;
  const cert = user ? material(user, 'client-certificate-data', 'client-certificate', userRelative) : undefined;
  const key = user ? material(user, 'client-key-data', 'client-key', userRelative) : undefined;
  if ((cert === undefined) !== (key === undefined)) throw new KubeConfigError(`${userField}: ${cert ? 'client-certificate without client-key' : 'client-key without client-certificate'}`);
  const token = text(u['token']);
  const tokenFile = text(u['tokenFile']);
  const username = text(u['username']);
  if ((token !== undefined || tokenFile !== undefined) && (username !== undefined || text(u['password']) !== undefined)) {
    throw new KubeConfigError(`${userField}: both a token and a username/password; only one authentication method is allowed`);
  }
  if (u['exec'] !== undefined && u['auth-provider'] !== undefined) throw new KubeConfigError(`${userField}: exec and auth-provider cannot both be set`);
  const headers = impersonationHeaders(u, userField);

  let authorization: () => Promise<string | undefined> = () => Promise.resolve(undefined);
  let clientCertificate: (() => Promise<ClientCertificate | undefined>) | undefined;
  let unauthorized: (() => void) | undefined;
  if (token !== undefined) {
    const header = `Bearer ${token}`;
    authorization = () => Promise.resolve(header);
  } else if (tokenFile !== undefined) {
    const read = tokenFromFile(isAbsolute(tokenFile) ? tokenFile : join(dirname(user?.file ?? ''), tokenFile));
    authorization = async () => `Bearer ${await read()}`;
  } else if (username !== undefined) {
    const header = `Basic ${Buffer.from(`${username}:${typeof u['password'] === 'string' ? u['password'] : ''}`).toString('base64')}`;
    authorization = () => Promise.resolve(header);
  } else if (u['exec'] !== undefined && cert === undefined) {
    // As client-go: a static token, password or client certificate wins, and the plugin is not run.
    let exec;
    try {
      exec = parseExecConfig(u['exec'], `${userRelative}.exec`, dirname(user?.file ?? ''));
    } catch (error) {
      if (error instanceof KubeconfigFieldError) throw new KubeConfigError(`${user?.file ?? where}: ${error.message}`);
      throw error;
    }
    const source = new ExecCredentialSource(exec, execClusterInfo(cluster, serverUrl, ca));
    authorization = async () => {
      const credential = await source.get();
      return credential.token === undefined ? undefined : `Bearer ${credential.token}`;
    };
    clientCertificate = async () => {
      const credential = await source.get();
      return credential.cert && credential.key ? { cert: credential.cert, key: credential.key } : undefined;
    };
    unauthorized = () => source.invalidate();
  } else if (u['auth-provider'] !== undefined) {
    authorization = await authProviderAuthorization(u, userName ?? 'user', server);
  }
  const as = typeof headers?.['impersonate-user'] === 'string' ? ` as ${headers['impersonate-user']}` : '';
  return {
    server: serverUrl,
    ca,
    cert,
    key,
    insecureSkipTlsVerify,
    tlsServerName,
    authorization,
    ...(clientCertificate ? { clientCertificate } : {}),
    ...(unauthorized ? { unauthorized } : {}),
    ...(headers ? { headers } : {}),
    ...(proxy ? { proxy } : {}),
    description: `${where} (context ${contextName}${as}${proxy ? `, through proxy ${redactedProxy(proxy)}` : ''})`,
  };
}

/** What `provideClusterInfo: true` hands an exec plugin. */
function execClusterInfo(cluster: DefinedEntry, server: URL, ca: Buffer | undefined): ExecClusterInfo {
  const c = cluster.value;
  const extensions = Array.isArray(c['extensions']) ? (c['extensions'] as unknown[]) : [];
  const config = extensions.find((e): e is Entry => isEntry(e) && e['name'] === 'client.authentication.k8s.io/exec');
  const tlsServerName = text(c['tls-server-name']);
  const proxyUrl = text(c['proxy-url']);
  return {
    server: server.toString().replace(/\/$/, ''),
    ...(tlsServerName ? { 'tls-server-name': tlsServerName } : {}),
    ...(c['insecure-skip-tls-verify'] === true ? { 'insecure-skip-tls-verify': true } : {}),
    ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
    ...(proxyUrl ? { 'proxy-url': proxyUrl } : {}),
    ...(c['disable-compression'] === true ? { 'disable-compression': true } : {}),
    ...(config ? { config: config['extension'] } : {}),
  };
}

/**
auth-provider users (the legacy gcp, azure and oidc providers): @kubernetes/client-node runs the
provider and caches its token. It is handed only this user, so that a merged KUBECONFIG needs no
second reading.
*/
async function authProviderAuthorization(user: Entry, userName: string, server: string): Promise<() => Promise<string | undefined>> {
  const { KubeConfig, RequestContext, HttpMethod } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cluster', cluster: { server } }],
      users: [{ name: userName, user: { 'auth-provider': user['auth-provider'] } }],
      contexts: [{ name: 'context', context: { cluster: 'cluster', user: userName } }],
      'current-context': 'context',
    }),
  );
  return async () => {
    const context = new RequestContext(server, HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    const headers = context.getHeaders();
    return headers['Authorization'] ?? headers['authorization'];
  };
}

/**
The usual lookup: an explicit file (or KUBECONFIG-style list); else in-cluster when the
ServiceAccount is mounted; else the files of KUBECONFIG, merged; else ~/.kube/config.
*/
export async function loadConnection(file?: string): Promise<KubeConnection> {
  if (file) return await kubeconfigConnection(file);
  if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(join(serviceAccountDir, 'token'))) return inClusterConnection();
  const fromEnv = kubeconfigFiles(process.env['KUBECONFIG'] ?? '');
  if (fromEnv.length > 0) return await kubeconfigConnection(fromEnv);
  const fallback = join(homedir(), '.kube', 'config');
  if (!existsSync(fallback)) throw new KubeConfigError(`no kubeconfig: not in a cluster, and ${fallback} does not exist`);
  return await kubeconfigConnection(fallback);
}
