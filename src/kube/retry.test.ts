import { describe, expect, it } from 'vitest';
import { KubeApiError, isConnectionFailure, isServerError, isThrottled, isTransient, retryAfterMsOf } from './errors.ts';
import { defaultKubeRetryOptions, retryClass, retryDelay, type KubeRetryOptions } from './retry.ts';

const options: KubeRetryOptions = { maxAttempts: 5, baseMs: 100, maxMs: 1000, maxRetryAfterMs: 10_000, budgetMs: 30_000 };
const nearlyOne = () => 0.999_999;
const zero = () => 0;
const socketError = (code: string) => Object.assign(new Error(code), { code });

describe('which failures are retried', () => {
  it('retries a 429 for every method, creates included: the server did not execute it', () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(retryDelay(method, { status: 429 }, 1, 0, options, zero)).toBe(0);
    }
  });

  it('retries 500, 502, 503 and 504 only for requests that can be repeated, never a create', () => {
    for (const status of [500, 502, 503, 504]) {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) expect(retryDelay(method, { status }, 1, 0, options, zero)).toBe(0);
      expect(retryDelay('POST', { status }, 1, 0, options, zero)).toBeUndefined();
    }
  });

  it('never retries answers about the request itself', () => {
    for (const status of [400, 401, 403, 404, 409, 410, 422, 501]) expect(retryDelay('GET', { status }, 1, 0, options)).toBeUndefined();
  });

  it('retries a connection that was never opened for any method, a broken one only when repeatable', () => {
    expect(retryClass({ error: socketError('ECONNREFUSED') })).toBe('any');
    expect(retryDelay('POST', { error: socketError('ECONNREFUSED') }, 1, 0, options, zero)).toBe(0);
    expect(retryDelay('POST', { error: socketError('ECONNRESET') }, 1, 0, options, zero)).toBeUndefined();
    expect(retryDelay('GET', { error: socketError('ECONNRESET') }, 1, 0, options, zero)).toBe(0);
    expect(retryDelay('GET', { error: new KubeApiError(0, 'Timeout', 'timed out') }, 1, 0, options, zero)).toBe(0);
    expect(retryDelay('POST', { error: new KubeApiError(0, 'Timeout', 'timed out') }, 1, 0, options, zero)).toBeUndefined();
  });

  it('never retries a refused write of a replica that lost its lease, nor a TLS failure', () => {
    expect(retryDelay('PUT', { error: new KubeApiError(0, 'NotLeader', 'not sent') }, 1, 0, options)).toBeUndefined();
    expect(retryDelay('GET', { error: socketError('DEPTH_ZERO_SELF_SIGNED_CERT') }, 1, 0, options)).toBeUndefined();
    expect(retryDelay('GET', { error: new Error('no code') }, 1, 0, options)).toBeUndefined();
  });
});

describe('how long it waits', () => {
  it('waits at least the server\'s Retry-After, plus jitter that grows with each attempt', () => {
    expect(retryDelay('GET', { status: 429, retryAfterMs: 1000 }, 1, 0, options, zero)).toBe(1000);
    expect(retryDelay('GET', { status: 429, retryAfterMs: 1000 }, 1, 0, options, nearlyOne)).toBe(1099);
    expect(retryDelay('GET', { status: 429, retryAfterMs: 1000 }, 3, 0, options, nearlyOne)).toBe(1399);
  });

  it('without a server delay, draws from a ceiling that doubles up to maxMs', () => {
    const ceilings = [1, 2, 3, 4].map((attempt) => retryDelay('GET', { status: 503 }, attempt, 0, { ...options, maxAttempts: 10 }, nearlyOne));
    expect(ceilings).toEqual([99, 199, 399, 799]);
    expect(retryDelay('GET', { status: 503 }, 8, 0, { ...options, maxAttempts: 10 }, nearlyOne)).toBe(999);
  });

  it('spreads clients throttled together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay('GET', { status: 429, retryAfterMs: 1000 }, 2, 0, options)));
    expect(delays.size).toBeGreaterThan(1);
  });

  it('gives up after maxAttempts sends', () => {
    expect(retryDelay('GET', { status: 429 }, 4, 0, options, zero)).toBe(0);
    expect(retryDelay('GET', { status: 429 }, 5, 0, options, zero)).toBeUndefined();
  });

  it('hands a long Retry-After back to the caller rather than holding a worker', () => {
    expect(retryDelay('GET', { status: 429, retryAfterMs: 10_000 }, 1, 0, options, zero)).toBe(10_000);
    expect(retryDelay('GET', { status: 429, retryAfterMs: 10_001 }, 1, 0, options, zero)).toBeUndefined();
  });

  it('starts no retry that would end past the budget', () => {
    expect(retryDelay('GET', { status: 429, retryAfterMs: 2000 }, 1, 28_000, options, zero)).toBe(2000);
    expect(retryDelay('GET', { status: 429, retryAfterMs: 2000 }, 1, 28_001, options, zero)).toBeUndefined();
  });

  it('has defaults that retry a throttled request a few times within half a minute', () => {
    expect(defaultKubeRetryOptions.maxAttempts).toBeGreaterThan(1);
    expect(defaultKubeRetryOptions.budgetMs).toBeLessThanOrEqual(30_000);
  });
});

describe('the error API the reconciler and the queue read', () => {
  it('tells throttling, server errors and missing answers apart, with the server\'s delay', () => {
    const throttled = new KubeApiError(429, 'TooManyRequests', 'slow down', 3000, { attempts: 5 });
    expect(isThrottled(throttled)).toBe(true);
    expect(retryAfterMsOf(throttled)).toBe(3000);
    expect(throttled.attempts).toBe(5);
    expect(isTransient(throttled)).toBe(true);
    expect(isServerError(new KubeApiError(503, 'ServiceUnavailable', 'down'))).toBe(true);
    expect(isTransient(new KubeApiError(504, 'Timeout', 'slow'))).toBe(true);
    expect(isConnectionFailure(socketError('ECONNREFUSED'))).toBe(true);
    expect(isTransient(new KubeApiError(0, 'Timeout', 'timed out'))).toBe(true);
    for (const notTransient of [new KubeApiError(403, 'Forbidden', 'no'), new KubeApiError(409, 'Conflict', 'no'), new KubeApiError(0, 'NotLeader', 'no'), new Error('x')]) {
      expect(isTransient(notTransient)).toBe(false);
      expect(isThrottled(notTransient)).toBe(false);
    }
    expect(retryAfterMsOf(new Error('x'))).toBeUndefined();
    expect(new KubeApiError(404, 'NotFound', 'gone').attempts).toBe(1);
  });
});
