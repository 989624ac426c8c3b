import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useLoopbackApi } from '../../test/support/loopback-api.ts';
import type { KubeConnection } from './connection.ts';
import { isThrottled, retryAfterMsOf, toKubeApiError } from './errors.ts';
import type { KubeClient, KubeClientOptions, KubeRetryEvent } from './kube-client.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

const loopback = useLoopbackApi();

async function serve(handler: Handler): Promise<{ url: URL; requests: { method: string; url: string; headers: IncomingMessage['headers'] }[] }> {
  const requests: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  const url = await loopback.listen((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => handler(request, response, requests.length - 1));
  });
  return { url, requests };
}

const fast = { retry: { baseMs: 1, maxMs: 2 } } satisfies KubeClientOptions;

function client(server: URL, options: KubeClientOptions = fast, extra: Partial<KubeConnection> = {}): KubeClient {
  return loopback.client(server, options, extra);
}

function status(response: ServerResponse, code: number, headers: Record<string, string> = {}, details: Record<string, unknown> = {}): void {
  const reason = { 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 409: 'AlreadyExists' }[code] ?? 'Unknown';
  response.writeHead(code, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ kind: 'Status', code, reason, message: `answer ${code}`, details }));
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const ok = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

describe('KubeClient retries', () => {
  it('sends a throttled GET again until it succeeds, telling onRetry each time', async () => {
    const { url, requests } = await serve((_request, response, index) => (index < 2 ? status(response, 429, { 'retry-after': '0' }) : ok(response)));
    const retries: KubeRetryEvent[] = [];
    const kube = client(url, { ...fast, onRetry: (event) => retries.push(event) });
    expect(await kube.get('/api/v1/namespaces/a/secrets/s')).toEqual({ ok: true });
    expect(requests).toHaveLength(3);
    expect(retries.map((r) => [r.method, r.status, r.attempt])).toEqual([
      ['GET', 429, 1],
      ['GET', 429, 2],
    ]);
  });

  it('retries a throttled create, whose first send the server did not execute', async () => {
    const { url, requests } = await serve((_request, response, index) => (index === 0 ? status(response, 429, { 'retry-after': '0' }) : ok(response)));
    expect(await client(url).create('/api/v1/namespaces/a/secrets', { metadata: { name: 's' } })).toEqual({ ok: true });
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST']);
  });

  it('does not send a create again after a 5xx: it may have been stored', async () => {
    const { url, requests } = await serve((_request, response) => status(response, 503, { 'retry-after': '0' }));
    const error = await client(url).create('/api/v1/namespaces/a/secrets', {}).catch((e: unknown) => e);
    expect(toKubeApiError(error)?.code).toBe(503);
    expect(requests).toHaveLength(1);
  });

  it('sends an apply again after a 500', async () => {
    const { url, requests } = await serve((_request, response, index) => (index === 0 ? status(response, 500) : ok(response)));
    expect(await client(url).apply('/api/v1/namespaces/a/secrets/s', { metadata: { name: 's' } }, 'test')).toEqual({ ok: true });
    expect(requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
  });

  it('gives up after its attempts with the server\'s delay and the attempts on the error', async () => {
    const { url, requests } = await serve((_request, response) => status(response, 429, {}, { retryAfterSeconds: 0.001 }));
    const error = await client(url, { retry: { baseMs: 1, maxMs: 2, maxAttempts: 3 } }).get('/x').catch((e: unknown) => e);
    expect(isThrottled(error)).toBe(true);
    expect(retryAfterMsOf(error)).toBe(1);
    expect(toKubeApiError(error)?.attempts).toBe(3);
    expect(requests).toHaveLength(3);
  });

  it('returns a Retry-After too long to wait out to the caller at once', async () => {
    const { url, requests } = await serve((_request, response) => status(response, 429, { 'retry-after': '60' }));
    const error = await client(url).get('/x').catch((e: unknown) => e);
    expect(retryAfterMsOf(error)).toBe(60_000);
    expect(requests).toHaveLength(1);
  });

  it('can be told not to retry', async () => {
    const { url, requests } = await serve((_request, response) => status(response, 429, { 'retry-after': '0' }));
    await expect(client(url, { retry: false }).get('/x')).rejects.toThrow('answer 429');
    expect(requests).toHaveLength(1);
  });

  it('checks the lease fence before every attempt, not only the first', async () => {
    let leading = true;
    const { url, requests } = await serve((_request, response) => {
      leading = false;
      status(response, 429, { 'retry-after': '0' });
    });
    const kube = client(url);
    kube.fenceWrites(() => leading);
    const error = await kube.replace('/apis/coordination.k8s.io/v1/namespaces/a/leases/l', {}).catch((e: unknown) => e);
    expect(toKubeApiError(error)?.reason).toBe('NotLeader');
    expect(requests).toHaveLength(1);
  });

  it('does not send a write that waited for a socket after the lease was lost meanwhile', async () => {
    // One socket, held by a slow GET: the PATCH waits in the pool, as under load or while a new
    // connection is made; a replica frozen then (SIGSTOP) must not send it when it wakes.
    let leading = true;
    let release: () => void = () => undefined;
    const { url, requests } = await serve((request, response) => {
      if (request.method === 'GET') release = () => ok(response);
      else ok(response);
    });
    const kube = client(url, { ...fast, maxRequestSockets: 1 });
    kube.fenceWrites(() => leading);
    const slow = kube.get('/api/v1/namespaces/a/secrets/slow');
    await until(() => requests.length === 1);
    const write = kube.patch('/api/v1/namespaces/a/secrets/s', {}, 'application/merge-patch+json').catch((e: unknown) => e);
    // Past the first check (while leading), queued behind the GET.
    await new Promise((resolve) => setTimeout(resolve, 50));
    leading = false;
    release();
    await slow;
    expect(toKubeApiError(await write)?.reason).toBe('NotLeader');
    expect(requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('retries a GET whose connection was refused', async () => {
    const dead = await loopback.refusingUrl();
    const retries: KubeRetryEvent[] = [];
    await expect(client(dead, { retry: { baseMs: 1, maxMs: 2, maxAttempts: 2 }, onRetry: (e) => retries.push(e) }).get('/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(retries).toHaveLength(1);
  });
});

describe('KubeClient connection pools', () => {
  it('answers requests while more watches are open than the request pool has sockets', async () => {
    const { url } = await serve((request, response) => {
      if (request.url?.includes('watch=true')) response.writeHead(200, { 'content-type': 'application/json' }).write('');
      else ok(response);
    });
    // More open watches than the default request pool has sockets (64): on one shared pool, the GETs would wait for a watch to end.
    const kube = client(url);
    const watches = await Promise.all(Array.from({ length: 70 }, async (_, i) => await kube.stream(`/api/v1/namespaces/n${i}/secrets`, { query: { watch: 'true' } })));
    expect(await Promise.all([kube.get('/a'), kube.get('/b'), kube.get('/c')])).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    for (const watch of watches) watch.destroy();
  });

  it('sends the connection\'s impersonation headers with every request', async () => {
    const { url, requests } = await serve((_request, response) => ok(response));
    const kube = client(url, fast, { headers: { 'impersonate-user': 'jane', 'impersonate-group': ['a', 'b'] } });
    await kube.get('/x');
    expect(requests[0]?.headers['impersonate-user']).toBe('jane');
    expect(requests[0]?.headers['impersonate-group']).toBe('a, b');
  });

  it('tells the connection about a 401, so that a plugin\'s credential is asked for again', async () => {
    const { url } = await serve((_request, response) => status(response, 401));
    let told = 0;
    await expect(client(url, fast, { unauthorized: () => told++ }).get('/x')).rejects.toThrow();
    expect(told).toBe(1);
  });
});
