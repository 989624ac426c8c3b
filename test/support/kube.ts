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
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name }).catch((error: unknown) => {
    if (!isStatus(error, 404)) throw error;
  });
}

export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
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
      (type: string, object: { metadata?: { resourceVersion?: string } }) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
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
