import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { KubeApiError } from './errors.ts';
import type { KubeConnection } from './connection.ts';

export const contentTypes = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  strategicMergePatch: 'application/strategic-merge-patch+json',
  // JSON is valid YAML; the API server has long refused the +json spelling of apply.
  apply: 'application/apply-patch+yaml',
} as const;

export interface RequestOptions {
  readonly query?: Record<string, string | undefined>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly signal?: AbortSignal | undefined;
  /** Whole-request timeout; none for streams. */
  readonly timeoutMs?: number;
}

/**
The operator's Kubernetes API client: JSON over one keep-alive connection pool, errors as
KubeApiError with the Status reason and message (never the raw body or headers). The operator's
needs are few and known (Secrets, status, Events, Leases, a few workloads), so a generic request
and typed paths cover them without the weight of a generated client.
*/
export class KubeClient {
  readonly connection: KubeConnection;
  readonly #agent: HttpsAgent | HttpAgent;
  readonly #https: boolean;
  #mayWrite: (() => boolean) | undefined;

  constructor(connection: KubeConnection) {
    this.connection = connection;
    this.#https = connection.server.protocol === 'https:';
    this.#agent = this.#https
      ? new HttpsAgent({
          keepAlive: true,
          maxSockets: 64,
          ...(connection.ca ? { ca: connection.ca } : {}),
          ...(connection.cert ? { cert: connection.cert } : {}),
          ...(connection.key ? { key: connection.key } : {}),
          ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
          rejectUnauthorized: !connection.insecureSkipTlsVerify,
        })
      : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  }

  async get<T>(path: string, options: Omit<RequestOptions, 'body' | 'contentType'> = {}): Promise<T> {
    return await this.request<T>('GET', path, options);
  }

  async create<T>(path: string, body: unknown, query: Record<string, string | undefined> = {}): Promise<T> {
    return await this.request<T>('POST', path, { body, query });
  }

  async replace<T>(path: string, body: unknown): Promise<T> {
    return await this.request<T>('PUT', path, { body });
  }

  async patch<T>(path: string, body: unknown, contentType: string, query: Record<string, string | undefined> = {}): Promise<T> {
    return await this.request<T>('PATCH', path, { body, contentType, query });
  }

  /**
  Server-side apply of `body`, owned by `fieldManager`. By default it takes over fields another
  manager owns; with `force: false` such a field fails the apply with a 409 naming that manager.
  */
  async apply<T>(path: string, body: unknown, fieldManager: string, options: { readonly force?: boolean } = {}): Promise<T> {
    return await this.patch<T>(path, body, contentTypes.apply, { fieldManager, force: options.force === false ? undefined : 'true' });
  }

  async delete(path: string, body?: unknown): Promise<void> {
    await this.request('DELETE', path, { body });
  }

  /**
  Refuses every request but GET from now on whenever `mayWrite` says no: with leader election, the
  operator's writes go through a client fenced by the lease (the elector has a client of its own).
  */
  fenceWrites(mayWrite: () => boolean): void {
    this.#mayWrite = mayWrite;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(method, path, { timeoutMs: 30_000, ...options });
    const text = await readBody(response);
    if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode > 299) {
      throw errorFromStatus(response, text, `${method} ${path}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A streaming GET (watches): the caller reads the body; a non-200 status throws. */
  async stream(path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const response = await this.#send('GET', path, options);
    if (response.statusCode !== 200) throw errorFromStatus(response, await readBody(response), `GET ${path}`);
    return response;
  }

  close(): void {
    this.#agent.destroy();
  }

  async #send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const url = new URL(path, this.connection.server);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const authorization = await this.connection.authorization();
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = {
      accept: options.accept ?? contentTypes.json,
      'user-agent': 'thalassa-secrets-operator',
      ...(authorization ? { authorization } : {}),
      ...(body ? { 'content-type': options.contentType ?? contentTypes.json, 'content-length': String(body.length) } : {}),
    };
    // Checked last, after every await: nothing may come between the check and the request leaving.
    if (method !== 'GET' && this.#mayWrite && !this.#mayWrite()) {
      throw new KubeApiError(0, 'NotLeader', `${method} ${url.pathname}: not sent, this replica no longer holds the leader lease`);
    }
    const send = this.#https ? httpsRequest : httpRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, { method, headers, agent: this.#agent, ...(options.signal ? { signal: options.signal } : {}) }, resolve);
      if (options.timeoutMs !== undefined) {
        request.setTimeout(options.timeoutMs, () => request.destroy(new KubeApiError(0, 'Timeout', `${method} ${url.pathname}: timed out`)));
      }
      request.on('error', reject);
      request.end(body);
    });
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function errorFromStatus(response: IncomingMessage, text: string, what: string): KubeApiError {
  let status: { reason?: string; message?: string } = {};
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    status = {};
  }
  const retryAfter = Number(response.headers['retry-after']);
  const code = response.statusCode ?? 0;
  return new KubeApiError(code, status.reason, status.message ?? `${what}: HTTP ${code}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
}

/** Kubernetes MicroTime (Leases, events.k8s.io): RFC 3339 with microseconds; a millisecond Date is refused. */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

/** API paths of the resources the operator touches. */
export const paths = {
  namespace: (name: string) => `/api/v1/namespaces/${name}`,
  secrets: (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`,
  secret: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`,
  events: (namespace: string) => `/api/v1/namespaces/${namespace}/events`,
  event: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/events/${name}`,
  serviceAccountToken: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
  leases: (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
  lease: (namespace: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
  workload: (kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', namespace: string, name: string) =>
    `/apis/apps/v1/namespaces/${namespace}/${{ Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' }[kind]}/${name}`,
  customStatus: (group: string, version: string, plural: string, namespace: string | undefined, name: string) =>
    namespace === undefined ? `/apis/${group}/${version}/${plural}/${name}/status` : `/apis/${group}/${version}/namespaces/${namespace}/${plural}/${name}/status`,
};
