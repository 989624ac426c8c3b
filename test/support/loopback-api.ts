/**
A plain-HTTP server on loopback that answers the operator's Kubernetes client, for unit tests of
the client itself (retries, pools, watch pauses) and of code whose reaction to an answer is the
point (a 403 on a credential, a 429 on a namespace read). Behaviour that a real API server decides
is tested against kube-apiserver instead (test/integration/).

Call `useLoopbackApi()` once at the top of a test file: what it starts is closed after each test.
*/
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { KubeConnection } from '../../src/kube/connection.ts';
import { KubeClient, type KubeClientOptions } from '../../src/kube/kube-client.ts';

export type Answer = (request: IncomingMessage, response: ServerResponse) => void;

/** A connection to `server` without TLS or credentials. */
export function loopbackConnection(server: URL, extra: Partial<KubeConnection> = {}): KubeConnection {
  return {
    server,
    ca: undefined,
    cert: undefined,
    key: undefined,
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    authorization: () => Promise.resolve(undefined),
    description: 'test',
    ...extra,
  };
}

/** A Kubernetes Status answer. */
export function statusAnswer(code: number, reason: string, message: string, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(code, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message }));
  };
}

export interface LoopbackApi {
  /** Starts a server answering with `listener`; resolves to its URL. */
  listen(listener: RequestListener): Promise<URL>;
  /** A client of `server`, closed after the test. */
  client(server: URL, options?: KubeClientOptions, extra?: Partial<KubeConnection>): KubeClient;
  /** The URL of a loopback port that was just free and is closed now: connections are refused. */
  refusingUrl(): Promise<URL>;
  /** Runs `cleanup` after the test, before the servers and clients made earlier are closed. */
  defer(cleanup: () => Promise<void> | void): void;
}

export function useLoopbackApi(): LoopbackApi {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async listen(listener) {
      const server = createServer(listener);
      cleanups.push(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    },
    client(server, options, extra) {
      const kube = new KubeClient(loopbackConnection(server, extra), options);
      cleanups.push(() => kube.close());
      return kube;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    async refusingUrl() {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await new Promise((resolve) => server.close(resolve));
      return url;
    },
  };
}
