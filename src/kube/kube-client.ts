import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { TLSSocket } from 'node:tls';
import { parseRetryAfter } from '../runtime/backoff.ts';
import { KubeApiError } from './errors.ts';
import type { KubeConnection } from './connection.ts';
import { HttpsTunnelAgent, HttpTunnelAgent } from './proxy-tunnel.ts';
import { defaultKubeRetryOptions, retryDelay, type KubeRetryOptions, type SendOutcome } from './retry.ts';

export const contentTypes = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
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
  /** Whole-request timeout of each attempt; none for streams. */
  readonly timeoutMs?: number;
}

/** A request about to be sent again (KubeClientOptions.onRetry). */
export interface KubeRetryEvent {
  readonly method: string;
  readonly path: string;
  /** The status that is being retried; undefined when no answer came (`error` says why). */
  readonly status: number | undefined;
  readonly error: unknown;
  /** Sends so far. */
  readonly attempt: number;
  readonly delayMs: number;
}

export interface KubeClientOptions {
  /** How 429, 5xx and broken connections are retried (src/kube/retry.ts); `false`: never. */
  readonly retry?: Partial<KubeRetryOptions> | false | undefined;
  /** Connections for requests other than watches; watches have a pool of their own, without a cap. Default 64. */
  readonly maxRequestSockets?: number | undefined;
  /** Told before each retry (for metrics and tests). */
  readonly onRetry?: ((event: KubeRetryEvent) => void) | undefined;
}

/** Caps the request pool; sockets are reused (keep-alive), so this is a ceiling for bursts, not a working size. */
const defaultMaxRequestSockets = 64;

/**
The operator's Kubernetes API client: JSON over keep-alive HTTP/1.1 connections, errors as
KubeApiError with the Status reason and message (never the raw body or headers). The operator's
needs are few and known (Secrets, status, Events, Leases, a few workloads), so a generic request
and typed paths cover them without the weight of a generated client.

Two connection pools: HTTP/1.1 gives each open watch a connection of its own for as long as it
runs (three per watched namespace, plus one), so watches get a pool without a cap, and every other
request a bounded one; neither can starve the other, whatever the number of namespaces. 429, 5xx and
broken connections are retried as src/kube/retry.ts decides, honouring `Retry-After`.
*/
export class KubeClient {
  readonly connection: KubeConnection;
  readonly #requests: HttpsAgent | HttpAgent;
  readonly #watches: HttpsAgent | HttpAgent;
  readonly #https: boolean;
  readonly #retry: KubeRetryOptions | undefined;
  readonly #onRetry: ((event: KubeRetryEvent) => void) | undefined;
  #mayWrite: (() => boolean) | undefined;

  constructor(connection: KubeConnection, options: KubeClientOptions = {}) {
    this.connection = connection;
    this.#https = connection.server.protocol === 'https:';
    this.#retry = options.retry === false ? undefined : { ...defaultKubeRetryOptions, ...options.retry };
    this.#onRetry = options.onRetry;
    this.#requests = this.#agent(options.maxRequestSockets ?? defaultMaxRequestSockets);
    this.#watches = this.#agent(Infinity);
  }

  #agent(maxSockets: number): HttpsAgent | HttpAgent {
    const { connection } = this;
    const proxy = connection.proxy;
    if (!this.#https) return proxy ? new HttpTunnelAgent(proxy, { keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
    const options = {
      keepAlive: true,
      maxSockets,
      ...(connection.ca ? { ca: connection.ca } : {}),
      // A certificate that can change (an exec plugin's) goes with each request instead: the agent keeps a pool per certificate.
      ...(connection.cert && !connection.clientCertificate ? { cert: connection.cert } : {}),
      ...(connection.key && !connection.clientCertificate ? { key: connection.key } : {}),
      ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
      rejectUnauthorized: !connection.insecureSkipTlsVerify,
    };
    return proxy ? new HttpsTunnelAgent(proxy, options) : new HttpsAgent(options);
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

  /**
  One request, sent again after a 429, a 5xx or a broken connection when src/kube/retry.ts allows
  it. The error of the last attempt is thrown, with the server's `retryAfterMs` and the attempts made.
  */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const startedAt = performance.now();
    const what = `${method} ${path}`;
    for (let attempt = 1; ; attempt++) {
      let outcome: SendOutcome;
      let failure: unknown;
      try {
        const response = await this.#send(method, path, { timeoutMs: 30_000, ...options }, this.#requests);
        const text = await readBody(response);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status <= 299) return (text === '' ? undefined : JSON.parse(text)) as T;
        if (status === 401) this.connection.unauthorized?.();
        failure = errorFromStatus(response, text, what, attempt);
        outcome = { status, retryAfterMs: (failure as KubeApiError).retryAfterMs };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        failure = error;
        outcome = { error };
      }
      const delayMs = this.#retry ? retryDelay(method, outcome, attempt, performance.now() - startedAt, this.#retry) : undefined;
      if (delayMs === undefined) throw failure;
      this.#onRetry?.({ method, path, status: 'status' in outcome ? outcome.status : undefined, error: failure, attempt, delayMs });
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  /**
  A streaming GET (watches), on the watch pool: the caller reads the body; a non-200 status throws.
  Not retried here: the informer reopens a failed watch with its own backoff.
  */
  async stream(path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const response = await this.#send('GET', path, options, this.#watches);
    if (response.statusCode !== 200) {
      if (response.statusCode === 401) this.connection.unauthorized?.();
      throw errorFromStatus(response, await readBody(response), `GET ${path}`);
    }
    return response;
  }

  close(): void {
    this.#requests.destroy();
    this.#watches.destroy();
  }

  async #send(method: string, path: string, options: RequestOptions, agent: HttpsAgent | HttpAgent): Promise<IncomingMessage> {
    const url = new URL(path, this.connection.server);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const authorization = await this.connection.authorization();
    const certificate = await this.connection.clientCertificate?.();
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | string[]> = {
      ...(this.connection.headers as Record<string, string | string[]> | undefined),
      accept: options.accept ?? contentTypes.json,
      'user-agent': 'thalassa-secrets-operator',
      ...(authorization ? { authorization } : {}),
      ...(body ? { 'content-type': options.contentType ?? contentTypes.json, 'content-length': String(body.length) } : {}),
    };
    const fenced = method !== 'GET' && this.#mayWrite !== undefined;
    const notLeader = () => new KubeApiError(0, 'NotLeader', `${method} ${url.pathname}: not sent, this replica no longer holds the leader lease`);
    // Checked after every await, and again once the request has a connected socket (below).
    if (fenced && this.#mayWrite?.() === false) throw notLeader();
    const send = this.#https ? httpsRequest : httpRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(
        url,
        {
          method,
          headers,
          agent,
          ...(certificate ? { cert: certificate.cert, key: certificate.key } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        },
        resolve,
      );
      if (options.timeoutMs !== undefined) {
        request.setTimeout(options.timeoutMs, () => request.destroy(new KubeApiError(0, 'Timeout', `${method} ${url.pathname}: timed out`)));
      }
      request.on('error', reject);
      if (!fenced) {
        request.end(body);
        return;
      }
      // A write waits in the pool for a free socket, or for a new one to connect (and for TLS to
      // shake hands): a replica frozen meanwhile would send it on waking, after a successor took
      // over. So the fence is asked again at the last moment, when the bytes can leave at once.
      request.once('socket', (socket) => {
        const go = () => {
          if (this.#mayWrite?.() === false) request.destroy(notLeader());
          else request.end(body);
        };
        if (socket instanceof TLSSocket && !handshakeDone(socket)) socket.once('secureConnect', go);
        else if (socket.connecting) socket.once('connect', go);
        else go();
      });
    });
  }
}

/** Whether a client TLS socket has finished its handshake (getProtocol says "unknown" before, null unconnected). */
function handshakeDone(socket: TLSSocket): boolean {
  const protocol = socket.getProtocol();
  return protocol !== null && protocol !== 'unknown';
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function errorFromStatus(response: IncomingMessage, text: string, what: string, attempts = 1): KubeApiError {
  let status: { reason?: string; message?: string; details?: { retryAfterSeconds?: number } } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) status = parsed;
  } catch {
    status = {};
  }
  const code = response.statusCode ?? 0;
  const header = response.headers['retry-after'];
  const fromDetails = status.details?.retryAfterSeconds;
  const retryAfterMs = parseRetryAfter(typeof header === 'string' ? header : undefined) ?? (typeof fromDetails === 'number' && fromDetails > 0 ? fromDetails * 1000 : undefined);
  const message = typeof status.message === 'string' ? status.message : `${what}: HTTP ${code}`;
  return new KubeApiError(code, typeof status.reason === 'string' ? status.reason : undefined, message, retryAfterMs, { attempts });
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
  custom: (group: string, version: string, plural: string, namespace: string | undefined, name: string) =>
    namespace === undefined ? `/apis/${group}/${version}/${plural}/${name}` : `/apis/${group}/${version}/namespaces/${namespace}/${plural}/${name}`,
  customStatus: (group: string, version: string, plural: string, namespace: string | undefined, name: string) => `${paths.custom(group, version, plural, namespace, name)}/status`,
};
