/**
Helpers of the reliability tests (test/integration/reliability-*.test.ts): waiting on many
resources with one list instead of one poll each, snapshots of Secrets, and a record of every
version of every Secret a watch delivered.
*/
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { ThalassaSecret } from '../../src/api/v1alpha1/thalassa-secret.ts';
import { retryTransient, waitFor, watchEvents, type WatchHandle } from './kube.ts';
import type { OperatorHarness } from './operator-harness.ts';

export function readyOf(resource: ThalassaSecret): { status?: string; reason?: string; message?: string; current: boolean } {
  const ready = resource.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    ...(ready ? { status: ready.status, reason: ready.reason, message: ready.message } : {}),
    current: ready !== undefined && ready.observedGeneration === resource.metadata.generation,
  };
}

export async function listResources(h: OperatorHarness, namespace = h.namespace): Promise<Map<string, ThalassaSecret>> {
  const items = await h.listCustomObjects<ThalassaSecret>('thalassasecrets', namespace);
  return new Map(items.map((r) => [r.metadata.name, r]));
}

/**
Waits until every named resource reports its expected Ready reason for its current generation,
with one list per round; on timeout, says which ones did not and what they said.
*/
export async function waitForReasons(
  h: OperatorHarness,
  expected: ReadonlyMap<string, string>,
  options: { readonly timeoutMs?: number; readonly namespace?: string } = {},
): Promise<Map<string, ThalassaSecret>> {
  let missing: string[] = [];
  return await waitFor(
    async () => {
      const resources = await listResources(h, options.namespace);
      missing = [];
      for (const [name, reason] of expected) {
        const resource = resources.get(name);
        const ready = resource ? readyOf(resource) : undefined;
        if (!ready?.current || ready.reason !== reason) {
          missing.push(`${name}: want ${reason}, has ${ready?.reason ?? 'nothing'}${ready?.message ? ` (${ready.message.slice(0, 200)})` : ''}`);
        }
      }
      return missing.length === 0 ? resources : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 500, message: () => `${missing.length} resources to report their reason:\n${missing.slice(0, 20).join('\n')}` },
  );
}

/** Waits until `check` holds for every resource of the namespace (and there are `count` of them). */
export async function waitForAll(
  h: OperatorHarness,
  count: number,
  check: (resource: ThalassaSecret) => boolean,
  options: { readonly timeoutMs?: number; readonly what?: string } = {},
): Promise<Map<string, ThalassaSecret>> {
  let done = 0;
  let example = '';
  return await waitFor(
    async () => {
      const resources = await listResources(h);
      const failing = [...resources.values()].filter((r) => !check(r));
      done = resources.size - failing.length;
      const first = failing[0];
      example = first ? `${first.metadata.name}: ${readyOf(first).reason ?? 'no status'} ${readyOf(first).message ?? ''}`.slice(0, 300) : '';
      return resources.size === count && failing.length === 0 ? resources : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 1000, message: () => `${options.what ?? 'all resources'} (${done}/${count} done; e.g. ${example})` },
  );
}

export interface SecretSnapshot {
  readonly resourceVersion: string;
  readonly data: Record<string, string>;
}

export function decodeData(secret: V1Secret): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** Every Secret of the namespace by name: its resourceVersion and decoded data. */
export async function snapshotSecrets(kc: KubeConfig, namespace: string): Promise<Map<string, SecretSnapshot>> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await retryTransient(() => core.listNamespacedSecret({ namespace }));
  return new Map(list.items.map((s) => [s.metadata?.name ?? '', { resourceVersion: s.metadata?.resourceVersion ?? '', data: decodeData(s) }]));
}

export interface SecretEvent {
  readonly type: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly data: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly managers: readonly string[];
  /** When the test saw it (Date.now()). */
  readonly seenAt: number;
}

/**
Every version of every Secret of a namespace that the API server reported, from the start of the
watch on: the tests look at each one, not only at the last.
*/
export class SecretHistory {
  readonly events: SecretEvent[] = [];
  readonly #watch: WatchHandle;

  constructor(kc: KubeConfig, namespace: string) {
    this.#watch = watchEvents(kc, `/api/v1/namespaces/${namespace}/secrets`, (type, object) => {
      const secret = object as V1Secret;
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
      this.events.push({
        type,
        name: secret.metadata?.name ?? '',
        resourceVersion: secret.metadata?.resourceVersion ?? '',
        data: decodeData(secret),
        annotations: secret.metadata?.annotations ?? {},
        managers: (secret.metadata?.managedFields ?? []).map((m) => m.manager ?? ''),
        seenAt: Date.now(),
      });
    });
  }

  of(name: string): SecretEvent[] {
    return this.events.filter((e) => e.name === name);
  }

  stop(): void {
    this.#watch.stop();
  }
}
