/**
Retries, backoff, Retry-After, idempotency and the client-side rate limit, counted at the emulator.
Timing is only ever asserted as a lower bound: a slow machine makes things later, never earlier.
*/
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { FaultConfig } from '../../src/emulator/index.ts';
import { BadRequestError, NetworkError, NotFoundError, RateLimitedError, UnavailableError } from '../../src/thalassa/index.ts';
import { countsOf, kmsKey, organisation, region, rejectionOf, requestsOf, useEmulator } from './client-fixtures.ts';

const h = useEmulator();

function seedSecret(path = '/app/x'): void {
  h.emulator.putSecret({ organisation, region, path, secretString: 'value' });
}

/**
An `onResponse` hook that turns the faults off after the first answer to `operation`: the first
attempt fails, the retry meets a healthy emulator.
*/
function healAfterFirst(operation: string): (op: string) => void {
  let healed = false;
  return (op) => {
    if (op === operation && !healed) {
      healed = true;
      h.emulator.setFaults({});
    }
  };
}

type Operations = NonNullable<FaultConfig['errors']>[number]['operations'];

/** Every request to `operations` fails with `status` (and a Retry-After when given). */
function failEvery(status: number, operations: Operations, retryAfterSeconds?: number): FaultConfig {
  const retryAfter = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  return { errors: [{ status, rate: 1, ...(operations ? { operations } : {}), ...retryAfter }] };
}

describe('retryable errors', () => {
  it.each([
    { status: 503, errorClass: UnavailableError },
    { status: 500, errorClass: UnavailableError },
    { status: 502, errorClass: UnavailableError },
    { status: 429, errorClass: RateLimitedError },
  ])('retries $status up to the limit, then throws', async ({ status, errorClass }) => {
    seedSecret();
    h.emulator.setFaults(failEvery(status, ['get']));
    await rejectionOf(h.client({ retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 5 } }).getMetadata('/app/x'), errorClass, { status });
    expect(countsOf(h.emulator, 'get')).toEqual({ [String(status)]: 3 });
  });

  it('retries a dropped connection of an idempotent call up to the limit', async () => {
    seedSecret();
    h.emulator.setFaults({ dropRate: 1 });
    await rejectionOf(h.client({ retry: { limit: 3, baseDelayMs: 1 } }).reveal('/app/x'), NetworkError, { timedOut: false });
    expect(countsOf(h.emulator, 'reveal')).toEqual({ dropped: 4 });
  });

  it('retries a timed-out idempotent call', async () => {
    seedSecret();
    h.emulator.setFaults({ latency: { fixedMs: 300, operations: ['get'] } });
    await rejectionOf(h.client({ retry: { limit: 1, baseDelayMs: 1 }, timeoutMs: 100 }).getMetadata('/app/x'), NetworkError, {
      timedOut: true,
    });
    // The emulator counts a request cut while it waits once its latency is over.
    await vi.waitFor(() => {
      expect(countsOf(h.emulator, 'get')).toEqual({ dropped: 2 });
    });
  });

  it('retries the refused connections of an outage and succeeds once the emulator listens again', async () => {
    seedSecret();
    h.emulator.setFaults({ outage: 'refuse' });
    await h.emulator.settled();
    const client = h.client({ retry: { limit: 20, baseDelayMs: 50, maxDelayMs: 50 }, random: () => 1 });
    const pending = client.getMetadata('/app/x');
    await sleep(120);
    h.emulator.setFaults({});
    await h.emulator.settled();
    expect((await pending).path).toBe('/app/x');
    expect(countsOf(h.emulator, 'get')).toEqual({ '200': 1 });
  });

  it('succeeds on the retry after one failure', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(503, ['reveal']));
    const client = h.client({ onResponse: healAfterFirst('reveal') });
    expect((await client.reveal('/app/x')).version).toBe(1);
    expect(countsOf(h.emulator, 'reveal')).toEqual({ '503': 1, '200': 1 });
  });

  it('waits a growing, jittered backoff between attempts', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(503, ['get']));
    // random() close to 1 makes full jitter pick the whole window: ~100 ms, then ~200 ms.
    const client = h.client({ retry: { limit: 2, baseDelayMs: 100, maxDelayMs: 10_000 }, random: () => 0.999 });
    const started = performance.now();
    await rejectionOf(client.getMetadata('/app/x'), UnavailableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(countsOf(h.emulator, 'get')).toEqual({ '503': 3 });
  });

  it('takes a per-call retryLimit over the client\'s', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(503, ['get', 'list']));
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await rejectionOf(client.getMetadata('/app/x', { retryLimit: 0 }), UnavailableError);
    await rejectionOf(client.list('/', { retryLimit: 1 }), UnavailableError);
    expect(countsOf(h.emulator, 'get')).toEqual({ '503': 1 });
    expect(countsOf(h.emulator, 'list')).toEqual({ '503': 2 });
  });

  it('does not retry errors that will not change', async () => {
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1 } });
    await rejectionOf(client.getMetadata('/app/missing'), NotFoundError);
    await rejectionOf(client.create({ path: '/app/g', kmsKeyIdentity: kmsKey, payload: { generate: { byteLength: 1 } } }), BadRequestError);
    expect(countsOf(h.emulator, 'get')).toEqual({ '404': 1 });
    expect(countsOf(h.emulator, 'create')).toEqual({ '400': 1 });
  });
});

describe('Retry-After', () => {
  it('waits out a 429 Retry-After of 1 s before the retry', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(429, ['get'], 1));
    const client = h.client({ onResponse: healAfterFirst('get') });
    const started = performance.now();
    expect((await client.getMetadata('/app/x')).path).toBe('/app/x');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(countsOf(h.emulator, 'get')).toEqual({ '429': 1, '200': 1 });
  });

  it('waits out a 503 Retry-After too', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(503, ['reveal'], 1));
    const client = h.client({ onResponse: healAfterFirst('reveal') });
    const started = performance.now();
    expect((await client.reveal('/app/x')).version).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('holds the other callers of the same client too', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(429, ['get'], 1));
    const client = h.client({ rateLimit: { requestsPerSecond: 1000, burst: 1000 }, onResponse: healAfterFirst('get') });
    const started = performance.now();
    const first = client.getMetadata('/app/x');
    await sleep(100);
    await client.list('/');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    await first;
    expect(countsOf(h.emulator, 'list')).toEqual({ '200': 1 });
  });

  it('does not wait out a Retry-After beyond maxRetryAfterMs: the caller gets the error at once', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(429, ['get'], 30));
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1, maxRetryAfterMs: 2000 } });
    await rejectionOf(client.getMetadata('/app/x'), RateLimitedError, { status: 429, retryAfterMs: 30_000, retryable: true });
    expect(countsOf(h.emulator, 'get')).toEqual({ '429': 1 });
  });
});

describe('Retry-After holds the whole client, whoever was told', () => {
  it('after a call that does not retry (its last attempt, or a poll with retryLimit 0)', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(429, ['get'], 1));
    const client = h.client({ rateLimit: { requestsPerSecond: 1000, burst: 1000 } });
    await rejectionOf(client.getMetadata('/app/x', { retryLimit: 0 }), RateLimitedError, { retryAfterMs: 1000 });
    h.emulator.setFaults({});
    const started = performance.now();
    await client.list('/');
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(countsOf(h.emulator, 'list')).toEqual({ '200': 1 });
  });

  it('beyond maxRetryAfterMs: the other calls fail at once with the time left, and send nothing', async () => {
    seedSecret();
    h.emulator.setFaults(failEvery(429, ['get'], 30));
    const client = h.client({ rateLimit: { requestsPerSecond: 1000, burst: 1000 }, retry: { limit: 3, baseDelayMs: 1, maxRetryAfterMs: 2000 } });
    await rejectionOf(client.getMetadata('/app/x'), RateLimitedError, { retryAfterMs: 30_000 });
    h.emulator.setFaults({});
    const held = await rejectionOf(client.reveal('/app/x'), RateLimitedError, { status: 429, retryable: true });
    expect(held.retryAfterMs).toBeGreaterThan(25_000);
    expect(held.message).toContain('not sent');
    expect(countsOf(h.emulator, 'reveal')).toEqual({});
  });
});

describe('calls that are not idempotent', () => {
  it('does not resend a create or an add-version after a dropped connection', async () => {
    seedSecret();
    h.emulator.setFaults({ dropRate: 1 });
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1 } });
    await rejectionOf(client.create({ path: '/app/new', kmsKeyIdentity: kmsKey, payload: { string: 'x' } }), NetworkError);
    await rejectionOf(client.addVersion('/app/x', { string: 'y' }), NetworkError);
    expect(countsOf(h.emulator, 'create')).toEqual({ dropped: 1 });
    expect(countsOf(h.emulator, 'addVersion')).toEqual({ dropped: 1 });
  });

  it('does not resend a create whose answer was lost after the server acted', async () => {
    h.emulator.setFaults({ dropMidResponseRate: 1 });
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1 } });
    await rejectionOf(client.create({ path: '/app/new', kmsKeyIdentity: kmsKey, payload: { string: 'x' } }), NetworkError);
    expect(countsOf(h.emulator, 'create')).toEqual({ dropped: 1 });
    h.emulator.setFaults({});
    // The create happened: a blind resend would have met 409 or, for add-version, made a second version.
    expect((await client.getMetadata('/app/new')).currentVersion).toBe(1);
  });

  it('does not resend an add-version that timed out', async () => {
    seedSecret();
    h.emulator.setFaults({ latency: { fixedMs: 300, operations: ['addVersion'] } });
    const client = h.client({ retry: { limit: 3, baseDelayMs: 1 }, timeoutMs: 100 });
    await rejectionOf(client.addVersion('/app/x', { string: 'y' }), NetworkError, { timedOut: true });
    await vi.waitFor(() => {
      expect(countsOf(h.emulator, 'addVersion')).toEqual({ dropped: 1 });
    });
    await sleep(100);
    expect(requestsOf(h.emulator, 'addVersion')).toBe(1);
  });

  it('resends a create after 503 and an add-version after 429: the server did not act', async () => {
    seedSecret();
    const client = h.client({ onResponse: (op) => {
      if (op === 'create' || op === 'addVersion') h.emulator.setFaults({});
    } });
    h.emulator.setFaults(failEvery(503, ['create']));
    expect((await client.create({ path: '/app/new', kmsKeyIdentity: kmsKey, payload: { string: 'x' } })).currentVersion).toBe(1);
    h.emulator.setFaults(failEvery(429, ['addVersion'], 0));
    expect(await client.addVersion('/app/x', { string: 'y' })).toBe(2);
    expect(countsOf(h.emulator, 'create')).toEqual({ '503': 1, '201': 1 });
    expect(countsOf(h.emulator, 'addVersion')).toEqual({ '429': 1, '201': 1 });
  });

  it('retries a create in a KMS-less region up to the limit', async () => {
    const client = h.client({ region: 'de-01', retry: { limit: 2, baseDelayMs: 1 } });
    await rejectionOf(client.create({ path: '/app/de', kmsKeyIdentity: 'kms-de', payload: { string: 'x' } }), UnavailableError, { status: 503 });
    expect(countsOf(h.emulator, 'create')).toEqual({ '503': 3 });
  });
});

describe('client-side rate limit', () => {
  it('bounds the requests sent in a window by burst + rate x elapsed', async () => {
    seedSecret();
    const rate = { requestsPerSecond: 10, burst: 3 };
    const client = h.client({ rateLimit: rate });
    const stop = new AbortController();
    const started = performance.now();
    const calls = Array.from({ length: 40 }, async () => await client.getMetadata('/app/x', { signal: stop.signal }));
    await sleep(500);
    const sent = requestsOf(h.emulator, 'get');
    const elapsedSeconds = (performance.now() - started) / 1000;
    stop.abort();
    const outcomes = await Promise.allSettled(calls);

    // The bound is a count: elapsed time only ever makes it looser.
    expect(sent).toBeLessThanOrEqual(rate.burst + Math.ceil(rate.requestsPerSecond * elapsedSeconds) + 1);
    expect(sent).toBeGreaterThanOrEqual(rate.burst);
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeLessThanOrEqual(requestsOf(h.emulator, 'get'));
    expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);
  });

  it('lets the burst through at once and the rest at the rate', async () => {
    seedSecret();
    const client = h.client({ rateLimit: { requestsPerSecond: 20, burst: 5 } });
    const started = performance.now();
    await Promise.all(Array.from({ length: 15 }, async () => await client.getMetadata('/app/x')));
    // 10 requests beyond the burst at 20/s need at least ~0.5 s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(countsOf(h.emulator, 'get')).toEqual({ '200': 15 });
  });
});
