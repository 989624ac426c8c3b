import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetrying, deleteRetrying, isTransient, retryAfterMs, retryTransient } from '../support/kube.ts';

/**
The retries of the test helpers' API calls (test/support/kube.ts), against what
@kubernetes/client-node really throws: an HTTP server on loopback plays the API server coming back
from a restart (a 429 "storage is (re)initializing" with Retry-After, a 503, a dropped connection),
and a closed port plays one that is down. Waits are recorded, not slept.
*/

const initializing = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'storage is (re)initializing',
  reason: 'TooManyRequests',
  details: { retryAfterSeconds: 1 },
  code: 429,
});
const emptyList = JSON.stringify({ apiVersion: 'secrets.thalassa.cloud/v1alpha1', kind: 'ThalassaSecretStoreList', metadata: {}, items: [] });

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server answering the nth request with `answers[n]` (the last one from then on); its URL. */
async function serve(answers: readonly Answer[]): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  server = createServer((request, response) => {
    const answer = answers[Math.min(count, answers.length - 1)];
    count++;
    answer?.(request, response);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count };
}

const status =
  (code: number, body: string, headers: Record<string, string> = {}): Answer =>
  (_request, response) => {
    response.writeHead(code, { 'content-type': 'application/json', ...headers }).end(body);
  };
const drop: Answer = (request) => {
  request.socket.destroy();
};

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const listStores = (kc: KubeConfig): Promise<unknown> =>
  kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'secrets.thalassa.cloud', version: 'v1alpha1', namespace: 'n', plural: 'thalassasecretstores' });

function recorder(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: (ms) => Promise.resolve(void waits.push(ms)) };
}

describe('what the client throws while the API server comes back', () => {
  it('a 429 "storage is (re)initializing" is an ApiException with its code and Retry-After', async () => {
    const { url } = await serve([status(429, initializing, { 'retry-after': '1' })]);
    const error = await listStores(kubeConfig(url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(429);
    expect(retryAfterMs(error)).toBe(1000);
    expect(isTransient(error)).toBe(true);
  });

  it('a refused connection and a dropped one are transient', async () => {
    const { url } = await serve([drop]);
    const dropped = await listStores(kubeConfig(url)).catch((e: unknown) => e);
    expect(dropped).not.toBeInstanceOf(ApiException);
    expect(isTransient(dropped)).toBe(true);
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    // The same port, now closed.
    const refused = await listStores(kubeConfig(url)).catch((e: unknown) => e);
    expect(isTransient(refused), String(refused)).toBe(true);
  });

  it('4xx other than 429 and errors that are not about the connection are not', () => {
    for (const code of [400, 403, 404, 409, 410, 422]) expect(isTransient(new ApiException(code, 'x', {}, {}))).toBe(false);
    for (const code of [500, 502, 503, 504]) expect(isTransient(new ApiException(code, 'x', {}, {}))).toBe(true);
    expect(isTransient(new Error('expected 2 to be 3'))).toBe(false);
    expect(isTransient(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isTransient(new Error('socket hang up'))).toBe(true);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs(new ApiException(503, 'x', {}, { 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new ApiException(429, 'x', {}, { 'retry-after': 'Thu, 01 Jan 2026 00:00:02 GMT' }), now)).toBe(2000);
    expect(retryAfterMs(new ApiException(429, 'x', {}, {}))).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
});

describe('retryTransient', () => {
  it('lists after the storage is initialized, waiting what Retry-After asks', async () => {
    const { url, requests } = await serve([status(429, initializing, { 'retry-after': '1' }), status(429, initializing, { 'retry-after': '1' }), status(200, emptyList)]);
    const { waits, sleep } = recorder();
    const list = (await retryTransient(() => listStores(kubeConfig(url)), { sleep })) as { items: unknown[] };
    expect(list.items).toEqual([]);
    expect(requests()).toBe(3);
    expect(waits).toEqual([1000, 1000]);
  });

  it('backs off from 100 ms, doubling up to maxDelayMs, through 503s and dropped connections', async () => {
    const { url, requests } = await serve([status(503, '{}'), drop, status(500, '{}'), drop, status(502, '{}'), status(200, '{"items":[]}')]);
    const { waits, sleep } = recorder();
    await retryTransient(() => kubeConfig(url).makeApiClient(CoreV1Api).listNamespace(), { sleep, maxDelayMs: 800 });
    expect(requests()).toBe(6);
    expect(waits).toEqual([100, 200, 400, 800, 800]);
  });

  it('gives up after `attempts` calls with the last error, saying how often it tried', async () => {
    const { url, requests } = await serve([status(429, initializing, { 'retry-after': '1' })]);
    const { waits, sleep } = recorder();
    const error = await retryTransient(() => listStores(kubeConfig(url)), { sleep, attempts: 4 }).catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
    expect((error as Error).message).toContain('still failing after 4 attempts');
    expect(requests()).toBe(4);
    expect(waits).toHaveLength(3);
  });

  it('gives up when the next wait would pass totalMs', async () => {
    let calls = 0;
    const { waits, sleep } = recorder();
    const error = await retryTransient(
      () => {
        calls++;
        return Promise.reject(new ApiException(429, 'x', {}, { 'retry-after': '5' }));
      },
      { sleep, totalMs: 12_000 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    // 5 s and 10 s fit in 12 s (the recorded sleeps take no time); the third wait would not.
    expect(waits).toEqual([5000, 5000]);
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    const { url, requests } = await serve([status(404, '{"kind":"Status","code":404}')]);
    const error = await retryTransient(() => listStores(kubeConfig(url)), { sleep: () => Promise.resolve() }).catch((e: unknown) => e);
    expect((error as ApiException<unknown>).code).toBe(404);
    expect(requests()).toBe(1);
  });
});

describe('writes retried after an attempt that may have been applied', () => {
  const fail = (error: unknown) => () => Promise.reject(error instanceof Error ? error : new Error(String(error)));
  const sequence = (...steps: (() => Promise<unknown>)[]) => {
    let i = 0;
    return () => (steps[Math.min(i++, steps.length - 1)] ?? (() => Promise.resolve()))();
  };
  const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

  it('a create that finds 409 after a dropped connection is done', async () => {
    await expect(createRetrying(sequence(fail(reset), fail(new ApiException(409, 'exists', {}, {}))))).resolves.toBeUndefined();
  });

  it('a create that finds 409 after a 429 (refused before anything was done) is a conflict', async () => {
    const error = await createRetrying(sequence(fail(new ApiException(429, 'x', {}, { 'retry-after': '0' })), fail(new ApiException(409, 'exists', {}, {})))).catch(
      (e: unknown) => e,
    );
    expect((error as ApiException<unknown>).code).toBe(409);
  });

  it('a create that finds 409 after a refused connection (nothing was sent) is a conflict', async () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    const error = await createRetrying(sequence(fail(refused), fail(new ApiException(409, 'exists', {}, {})))).catch((e: unknown) => e);
    expect((error as ApiException<unknown>).code).toBe(409);
  });

  it('a create that meets 409 at once is a conflict', async () => {
    const error = await createRetrying(fail(new ApiException(409, 'exists', {}, {}))).catch((e: unknown) => e);
    expect((error as ApiException<unknown>).code).toBe(409);
  });

  it('a delete that finds 404 after a dropped connection is done; one that meets 404 at once is not', async () => {
    await expect(deleteRetrying(sequence(fail(reset), fail(new ApiException(404, 'gone', {}, {}))))).resolves.toBeUndefined();
    const error = await deleteRetrying(fail(new ApiException(404, 'gone', {}, {}))).catch((e: unknown) => e);
    expect((error as ApiException<unknown>).code).toBe(404);
  });
});
