import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthState {
  /** The process works: the event loop answers, shutdown has not begun. */
  live(): boolean;
  /** Ready for traffic in the Kubernetes sense: caches synced (leader) or standing by behind a known leader. */
  ready(): { readonly ready: boolean; readonly detail: Record<string, unknown> };
}

/** Splits `host:port` (host may be empty for every interface, or a [v6] literal). */
export function parseAddress(address: string): { host: string | undefined; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(address.slice(at + 1)) };
}

async function listen(server: Server, address: string): Promise<Server> {
  const { host, port } = parseAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** `/healthz` and `/readyz`, for the kubelet's probes. */
export async function serveHealth(address: string, state: HealthState): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz' || path === '/livez') {
      const live = state.live();
      response.writeHead(live ? 200 : 503, { 'content-type': 'text/plain' }).end(live ? 'ok\n' : 'shutting down\n');
      return;
    }
    if (path === '/readyz') {
      const { ready, detail } = state.ready();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready, ...detail })}\n`);
      return;
    }
    response.writeHead(404).end();
  });
  return await listen(server, address);
}

/** `/metrics` in the Prometheus text format. */
export async function serveMetrics(address: string, registry: Registry): Promise<Server> {
  const server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  return await listen(server, address);
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
