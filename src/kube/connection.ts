/**
Where the Kubernetes API is and how to authenticate to it: a kubeconfig file, or the in-cluster
ServiceAccount. Client certificates, bearer tokens (also from a file, re-read as bound tokens
rotate) and basic auth are handled here; exec and auth-provider plugins (EKS, GKE, OIDC logins)
are delegated to @kubernetes/client-node, loaded only for such kubeconfigs, because that library
costs about 80 MiB of memory to load.
*/
import { readFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface KubeConnection {
  readonly server: URL;
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName: string | undefined;
  /** The Authorization header for the next request, if the user authenticates by header. */
  authorization(): Promise<string | undefined>;
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

function pick(list: unknown, name: string | undefined, kind: string, field: 'cluster' | 'user' | 'context', file: string): Entry {
  const entries = (Array.isArray(list) ? list : []) as Entry[];
  const value = entries.find((e) => e['name'] === name)?.[field];
  if (typeof value !== 'object' || value === null) throw new KubeConfigError(`${file}: no ${kind} named "${name ?? ''}"`);
  return value as Entry;
}

function material(entry: Entry, dataKey: string, fileKey: string, base: string): Buffer | undefined {
  const data = entry[dataKey];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = entry[fileKey];
  if (typeof file === 'string' && file !== '') return readFileSync(isAbsolute(file) ? file : join(base, file));
  return undefined;
}

/** Reads a kubeconfig file: its current context's cluster and user. */
export async function kubeconfigConnection(file: string): Promise<KubeConnection> {
  const config = parse(readFileSync(file, 'utf8')) as Entry;
  const base = dirname(file);
  const contextName = typeof config['current-context'] === 'string' ? config['current-context'] : undefined;
  const context = pick(config['contexts'], contextName, 'context', 'context', file);
  const clusterName = typeof context['cluster'] === 'string' ? context['cluster'] : undefined;
  const userName = typeof context['user'] === 'string' ? context['user'] : undefined;
  const cluster = pick(config['clusters'], clusterName, 'cluster', 'cluster', file);
  const user = userName === undefined ? {} : pick(config['users'], userName, 'user', 'user', file);
  if (typeof cluster['server'] !== 'string') throw new KubeConfigError(`${file}: cluster "${clusterName ?? ''}" has no server`);
  let authorization: () => Promise<string | undefined> = () => Promise.resolve(undefined);
  if (typeof user['token'] === 'string' && user['token'] !== '') {
    const header = `Bearer ${user['token']}`;
    authorization = () => Promise.resolve(header);
  } else if (typeof user['tokenFile'] === 'string') {
    const token = tokenFromFile(isAbsolute(user['tokenFile']) ? user['tokenFile'] : join(base, user['tokenFile']));
    authorization = async () => `Bearer ${await token()}`;
  } else if (typeof user['username'] === 'string' && typeof user['password'] === 'string') {
    const header = `Basic ${Buffer.from(`${user['username']}:${user['password']}`).toString('base64')}`;
    authorization = () => Promise.resolve(header);
  } else if (user['exec'] || user['auth-provider']) {
    authorization = await pluginAuthorization(file);
  }
  return {
    server: new URL(cluster['server']),
    ca: material(cluster, 'certificate-authority-data', 'certificate-authority', base),
    cert: material(user, 'client-certificate-data', 'client-certificate', base),
    key: material(user, 'client-key-data', 'client-key', base),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    authorization,
    description: `${file} (context ${contextName ?? ''})`,
  };
}

/** Exec and auth-provider users: @kubernetes/client-node runs the plugin and caches its token. */
async function pluginAuthorization(file: string): Promise<() => Promise<string | undefined>> {
  const { KubeConfig, RequestContext, HttpMethod } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const server = kc.getCurrentCluster()?.server ?? 'https://localhost';
  return async () => {
    const context = new RequestContext(server, HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    const headers = context.getHeaders();
    return headers['Authorization'] ?? headers['authorization'];
  };
}

/**
The usual lookup: an explicit file; else in-cluster when the ServiceAccount is mounted; else the
first file of KUBECONFIG; else ~/.kube/config.
*/
export async function loadConnection(file?: string): Promise<KubeConnection> {
  if (file) return await kubeconfigConnection(file);
  if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(join(serviceAccountDir, 'token'))) return inClusterConnection();
  const fromEnv = process.env['KUBECONFIG']?.split(':').find((f) => f !== '');
  const fallback = fromEnv ?? join(homedir(), '.kube', 'config');
  if (!existsSync(fallback)) throw new KubeConfigError(`no kubeconfig: not in a cluster, and ${fallback} does not exist`);
  return await kubeconfigConnection(fallback);
}
