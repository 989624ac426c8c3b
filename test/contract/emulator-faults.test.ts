import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type FaultConfig } from '../../src/emulator/index.ts';
import { admin, call, contractSeed, messageOf, organisation, region, secretUrl } from './emulator-fixtures.ts';

let emulator: Emulator;

async function start(faults: FaultConfig = {}, randomSeed = 7): Promise<Emulator> {
  const started = await startEmulator({ seed: contractSeed(), faults, randomSeed });
  started.putSecret({ organisation, region, path: '/app/x', secretString: 'x' });
  return started;
}

beforeEach(async () => {
  emulator = await start();
});
afterEach(async () => {
  await emulator.stop();
});

const reveal = async (): Promise<number> => (await call(emulator, 'POST', secretUrl('/app/x', '/value'))).status;
const get = async (): Promise<number> => (await call(emulator, 'GET', secretUrl('/app/x'))).status;

describe('latency', () => {
  it('delays only the targeted operations and does not block other requests', async () => {
    emulator.setFaults({ latency: { fixedMs: 300, operations: ['reveal'] } });
    const order: string[] = [];
    const started = performance.now();
    const slow = reveal().then((status) => {
      order.push('reveal');
      return status;
    });
    const fast = get().then((status) => {
      order.push('get');
      return status;
    });
    expect(await Promise.all([slow, fast])).toEqual([200, 200]);
    expect(order).toEqual(['get', 'reveal']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('draws jitter between minMs and maxMs', async () => {
    emulator.setFaults({ latency: { minMs: 50, maxMs: 100 } });
    const started = performance.now();
    expect(await get()).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
  });

  // The latency is far beyond the test's timeout: the request can only end because the emulator stopped.
  it('ends requests waiting in latency when the emulator stops', { timeout: 60_000 }, async () => {
    emulator.setFaults({ latency: { fixedMs: 600_000 } });
    const pending = get().catch(() => 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await emulator.stop();
    expect(await pending).toBe('failed');
    emulator = await start();
  });
});

describe('injected errors and rate limits', () => {
  it('answers the configured status, message and Retry-After for targeted operations', async () => {
    emulator.setFaults({ errors: [{ status: 503, rate: 1, operations: ['reveal'], retryAfterSeconds: 3, message: 'busy' }] });
    const result = await call(emulator, 'POST', secretUrl('/app/x', '/value'));
    expect(result.status).toBe(503);
    expect(messageOf(result)).toBe('busy');
    expect(result.headers.get('retry-after')).toBe('3');
    expect(await get()).toBe(200);
    expect(emulator.counters().byOperation.reveal).toEqual({ '503': 1 });
  });

  it('is reproducible for a given random seed', async () => {
    const sequence = async (target: Emulator): Promise<number[]> => {
      target.setFaults({ errors: [{ status: 500, rate: 0.5 }] });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) statuses.push((await call(target, 'GET', secretUrl('/app/x'))).status);
      return statuses;
    };
    const other = await start({}, 7);
    try {
      const first = await sequence(emulator);
      expect(first).toContain(500);
      expect(first).toContain(200);
      expect(await sequence(other)).toEqual(first);
    } finally {
      await other.stop();
    }
  });

  it('rate-limits per organisation with a token bucket and Retry-After', async () => {
    emulator.setFaults({ rateLimit: { requestsPerSecond: 0.5, burst: 2 } });
    expect(await get()).toBe(200);
    expect(await get()).toBe(200);
    const limited = await call(emulator, 'GET', secretUrl('/app/x'), { org: 'acme' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const otherOrganisation = await call(emulator, 'GET', secretUrl('/app/x'), { org: 'org-2', auth: 'Token outsider-pat' });
    expect(otherOrganisation.status).toBe(404);
    emulator.setFaults({ rateLimit: { requestsPerSecond: 100, burst: 1, retryAfterSeconds: 9 } });
    expect(await get()).toBe(200);
    const fixed = await call(emulator, 'GET', secretUrl('/app/x'));
    expect(fixed.status).toBe(429);
    expect(fixed.headers.get('retry-after')).toBe('9');
  });
});

describe('dropped connections', () => {
  it('destroys the socket without a response: fetch rejects, counted as dropped', async () => {
    emulator.setFaults({ dropRate: 1 });
    await expect(reveal()).rejects.toThrow();
    emulator.setFaults({});
    expect(await reveal()).toBe(200);
    expect(emulator.counters().byOperation.reveal).toEqual({ dropped: 1, '200': 1 });
  });

  it('cuts a response after the headers: the body read rejects', async () => {
    emulator.setFaults({ dropMidResponseRate: 1 });
    const response = await fetch(`${emulator.url}${secretUrl('/app/x', '/value')}`, {
      method: 'POST',
      headers: { authorization: 'Token admin-pat', 'x-organisation-identity': organisation },
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(emulator.counters().byOperation.reveal).toEqual({ dropped: 1 });
  });
});

describe('outages', () => {
  it('unavailable answers 503 to every API request while admin keeps working', async () => {
    emulator.setFaults({ outage: 'unavailable' });
    expect(await reveal()).toBe(503);
    expect((await call(emulator, 'GET', '/v1/kms/summary')).status).toBe(503);
    expect((await admin(emulator, 'GET', '/healthz')).status).toBe(200);
    emulator.setFaults({ outage: 'none' });
    expect(await reveal()).toBe(200);
  });

  it('refuse stops listening and recovers on the same port, driven through the admin endpoint', async () => {
    const url = emulator.url;
    expect(await get()).toBe(200);
    const put = await admin(emulator, 'PUT', '/faults', { outage: 'refuse' });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ outage: 'refuse' });
    const refused = await get().then(
      () => 'answered',
      (error: unknown) => ((error as { cause?: { code?: string } }).cause?.code ?? 'failed'),
    );
    expect(refused).toBe('ECONNREFUSED');
    expect((await admin(emulator, 'GET', '/faults')).json).toEqual({ outage: 'refuse' });
    await admin(emulator, 'PUT', '/faults', { outage: 'none' });
    expect(emulator.url).toBe(url);
    expect(await get()).toBe(200);
  });

  it('refuse cuts requests in flight, which count as dropped', async () => {
    emulator.setFaults({ latency: { fixedMs: 200 } });
    const pending = get().then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    emulator.setFaults({ outage: 'refuse' });
    expect(await pending).toBe('failed');
    emulator.setFaults({});
    expect(await get()).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emulator.counters().byOperation.get).toEqual({ dropped: 1, '200': 1 });
  });

  it('refuse set in-process takes effect at once and can be cleared', async () => {
    emulator.setFaults({ outage: 'refuse' });
    await expect(get()).rejects.toThrow();
    emulator.setFaults({});
    await emulator.settled();
    expect(await get()).toBe(200);
  });
});

describe('fault configuration', () => {
  it('rejects invalid configurations in-process and over the admin endpoint', async () => {
    expect(() => {
      emulator.setFaults({ dropRate: 2 });
    }).toThrow(/dropRate/);
    const result = await admin(emulator, 'PUT', '/faults', { errors: [{ status: 200, rate: 1 }] });
    expect(result.status).toBe(400);
    expect(emulator.faults).toEqual({});
  });

  it('never faults the admin endpoint', async () => {
    emulator.setFaults({ dropRate: 1, latency: { fixedMs: 10_000 }, errors: [{ status: 500, rate: 1 }] });
    expect((await admin(emulator, 'GET', '/counters')).status).toBe(200);
  });
});
