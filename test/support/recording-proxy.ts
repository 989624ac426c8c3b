import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { kubeconfigConnection } from '../../src/kube/connection.ts';

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  /** When the proxy received the request (Date.now()). */
  readonly at: number;
  /** When the answer's headers came back, and what they said; unset while in flight or when it failed. */
  answeredAt?: number;
  status?: number;
  retryAfter?: string;
}

export interface Upstream {
  readonly url: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly authorization?: string | undefined;
}

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name.toLowerCase())));
}

/**
A plain-http pass-through on loopback that records every request with the time it arrived and the
status (and Retry-After) it got. In front of the emulator it shows when the operator sent what; in
front of the Kubernetes API (with the admin client certificate upstream), each operator replica
gets its own, so the writes of each replica can be told apart. Streams (watches) pass through.
*/
interface InjectedFailure {
  readonly match: (request: ProxiedRequest) => boolean;
  readonly status: number;
  remaining: number;
}

export class RecordingProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  readonly #failures: InjectedFailure[];
  readonly #server: Server;

  private constructor(server: Server, requests: ProxiedRequest[], failures: InjectedFailure[]) {
    this.#server = server;
    this.requests = requests;
    this.#failures = failures;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Answers the next `count` requests that `match` with `status` (and no Retry-After) itself, instead of passing them on. */
  failNext(count: number, match: (request: ProxiedRequest) => boolean, status = 503): void {
    this.#failures.push({ match, status, remaining: count });
  }

  static async start(upstream: Upstream): Promise<RecordingProxy> {
    const target = new URL(upstream.url);
    const https = target.protocol === 'https:';
    const agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: upstream.ca, cert: upstream.cert, key: upstream.key })
      : undefined;
    const requests: ProxiedRequest[] = [];
    const failures: InjectedFailure[] = [];
    const server = createServer((req, res) => {
      const record: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', at: Date.now() };
      requests.push(record);
      const failure = failures.find((f) => f.remaining > 0 && f.match(record));
      if (failure) {
        failure.remaining--;
        record.answeredAt = Date.now();
        record.status = failure.status;
        req.resume();
        res.writeHead(failure.status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'injected by the test proxy' }));
        return;
      }
      const send = https ? httpsRequest : httpRequest;
      const forwarded = send(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...endToEnd(req.headers), host: target.host, ...(upstream.authorization ? { authorization: upstream.authorization } : {}) },
          ...(agent ? { agent } : {}),
        },
        (answer) => {
          record.answeredAt = Date.now();
          record.status = answer.statusCode ?? 0;
          const retryAfter = answer.headers['retry-after'];
          if (retryAfter !== undefined) record.retryAfter = retryAfter;
          res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
          answer.pipe(res);
          answer.on('error', () => res.destroy());
        },
      );
      // A connection the upstream cut is cut for the client too (as a dropped connection is).
      forwarded.on('error', () => res.destroy());
      res.on('close', () => {
        if (!res.writableFinished) forwarded.destroy();
      });
      req.pipe(forwarded);
    });
    // Idle connections stay open as long as kube-apiserver keeps them (Node's default is 5 s): a
    // client that was frozen for longer must find them as it left them.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RecordingProxy(server, requests, failures);
  }

  /** A proxy to the API server of `kubeconfigPath`, and a kubeconfig (in `dir`) that points at it. */
  static async forKubeApi(kubeconfigPath: string, dir: string, name: string): Promise<{ proxy: RecordingProxy; kubeconfig: string }> {
    const connection = await kubeconfigConnection(kubeconfigPath);
    const proxy = await RecordingProxy.start({
      url: connection.server.toString(),
      ca: connection.ca,
      cert: connection.cert,
      key: connection.key,
      authorization: await connection.authorization(),
    });
    const kubeconfig = join(dir, `${name}.kubeconfig`);
    // JSON is YAML: one cluster (the proxy, plain http on loopback), no credentials of its own.
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: proxy.url } }],
        users: [{ name: 'proxy', user: {} }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
        'current-context': 'proxy',
      }),
    );
    return { proxy, kubeconfig };
  }

  /** Stops listening and cuts every connection: clients get "connection refused", as from a server that is down. */
  async refuse(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    const port = Number(new URL(this.url).port);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    // Already closed when refusing: close() then reports that, which is fine.
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
