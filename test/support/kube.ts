import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig as loadReusingKubeConfig } from './reusing-kube-config.ts';

export function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  return loadReusingKubeConfig(kubeconfigPath);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A fresh namespace per test keeps tests independent on a shared API server. */
export async function createNamespace(kc: KubeConfig, prefix = 'test', labels: Record<string, string> = {}): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await createRetrying(() => core.createNamespace({ body: { metadata: { name, labels } } }));
  return name;
}

export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await retryTransient(() => core.deleteNamespace({ name })).catch((error: unknown) => {
    if (!isStatus(error, 404)) throw error;
  });
}

export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

/** Error codes of a connection that failed or broke: the API server is down or restarting. */
const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** The `code`s along an error's `cause` chain (fetch wraps the socket's error). */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/**
Whether `error` is what the API server answers while it (re)starts: 429 (a CRD's storage "is
(re)initializing", with Retry-After), any 5xx (not ready, etcd unavailable), or a connection
refused, reset or hung up (undici's fetch reports those as `TypeError: fetch failed` with the
socket error as `cause`).
*/
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiException) return error.code === 429 || (error.code >= 500 && error.code <= 599);
  if (causeCodes(error).some((code) => connectionCodes.has(code))) return true;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (/socket hang up|other side closed|ECONNREFUSED|ECONNRESET/.test(cause.message)) return true;
  }
  return false;
}

/** Retry-After of a 429 or 503 from the API server (seconds, or an HTTP date), in milliseconds. */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const headers = (error as ApiException<unknown>).headers as Record<string, string | undefined> | undefined;
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryOptions {
  /** At most this many calls in all (default 50). */
  readonly attempts?: number;
  /**
  Gives up when the next wait would end later than this after the first call (default 90 s: the
  local control plane gives a restarting kube-apiserver 90 s to be ready).
  */
  readonly totalMs?: number;
  /** Longest wait between two calls without Retry-After (default 2 s; it starts at 100 ms and doubles). */
  readonly maxDelayMs?: number;
  /** Waits; tests may record instead. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
Calls `fn` until it does not fail with a transient error (`isTransient`): the test helpers' API
calls go through this, so that a call right after an API server restart (tests restart it:
`restartApiServer` in reliability-watch.test.ts, watch-recovery.test.ts) waits for it instead of
failing. A 429 or 503 waits what Retry-After asks; others back off from 100 ms. Bounded by
`attempts` and `totalMs`: the last error is thrown, with the number of tries added to its message.
Any other error is thrown at once. A write retried after a broken connection may have been applied
by the earlier attempt: `createRetrying` and `deleteRetrying` take 409 and 404 as done then.
*/
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 50;
  const totalMs = options.totalMs ?? 90_000;
  const wait = options.sleep ?? sleep;
  const start = Date.now();
  let waited = 0;
  let backoff = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const delay = retryAfterMs(error) ?? backoff;
      backoff = Math.min(backoff * 2, options.maxDelayMs ?? 2_000);
      // Time spent so far: by the clock, or by the waits when `sleep` does not really sleep.
      const spent = Math.max(Date.now() - start, waited);
      if (attempt >= attempts || spent + delay > totalMs) {
        if (error instanceof Error) error.message = `${error.message}\n(still failing after ${attempt} attempts)`;
        throw error;
      }
      waited += delay;
      await wait(delay);
    }
  }
}

/**
Whether a request that failed this way may still have been applied: its connection broke, or the
server timed out. A 429 or 503 was refused before anything was done, a refused connection sent
nothing.
*/
function mayHaveApplied(error: unknown): boolean {
  if (!isTransient(error)) return false;
  if (error instanceof ApiException) return error.code !== 429 && error.code !== 503;
  return !causeCodes(error).includes('ECONNREFUSED');
}

/** `write` with `retryTransient`; `settled` says whether an error means an earlier, ambiguous attempt did it. */
async function writeRetrying(write: () => Promise<unknown>, settled: (error: unknown) => boolean): Promise<void> {
  let ambiguous = false;
  await retryTransient(async () => {
    try {
      await write();
    } catch (error) {
      if (ambiguous && settled(error)) return;
      ambiguous ||= mayHaveApplied(error);
      throw error;
    }
  });
}

/** A create; after an attempt that may have been applied, 409 means it was. */
export async function createRetrying(create: () => Promise<unknown>): Promise<void> {
  await writeRetrying(create, (error) => isStatus(error, 409));
}

/** A delete; after an attempt that may have been applied, 404 means it was. */
export async function deleteRetrying(remove: () => Promise<unknown>): Promise<void> {
  await writeRetrying(remove, (error) => isStatus(error, 404));
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** What never happened; a function is called at the timeout, so it can describe the last state. */
  readonly message?: string | (() => string);
}

/**
Polls until `check` returns a value other than undefined/false. Tests wait for conditions, never
for fixed times; the timeout only bounds a hung test and says what never happened.
*/
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      const message = typeof options.message === 'function' ? options.message() : (options.message ?? 'condition');
      throw new Error(`timed out waiting for ${message}${cause}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

export interface WatchHandle {
  stop(): void;
}

/**
A watch that re-opens itself when the server ends it or refuses it: a freshly created CRD answers
429 ("storage is initializing") for a moment, and tests must not depend on that timing.
*/
export function watchEvents(kc: KubeConfig, path: string, onEvent: (type: string, object: unknown) => void): WatchHandle {
  let stopped = false;
  let controller: AbortController | undefined;
  let resourceVersion: string | undefined;
  const open = async (): Promise<void> => {
    controller = await new Watch(kc).watch(
      path,
      resourceVersion ? { resourceVersion } : {},
      (type: string, object: { code?: number; metadata?: { resourceVersion?: string } }) => {
        // 410 Gone (history compacted, e.g. across an API server restart): resuming from this
        // version can never work again; start over from the current state (ADDED for each object).
        if (type === 'ERROR' && object.code === 410) resourceVersion = undefined;
        else resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        onEvent(type, object);
      },
      () => {
        if (!stopped) setTimeout(() => void open(), 500);
      },
    );
  };
  void open();
  return {
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}
