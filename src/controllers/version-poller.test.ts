import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import type { StoreRef, ThalassaSecret, ThalassaSecretSpec, ThalassaSecretStatus } from '../api/v1alpha1/thalassa-secret.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import type { ThalassaClient } from '../thalassa/index.ts';
import type { ResolvedStore } from './store-resolver.ts';
import { reasons, SyncError } from './sync-error.ts';
import { VersionCatalog } from './version-catalog.ts';
import { VersionPoller } from './version-poller.ts';

/**
The poller against fakes: resources in a map, a resolver that refuses or hangs on demand, and a
Thalassa client per store that records what it was asked and answers from a table of current
versions. Time is vitest's fake clock, so "ten intervals" is exact and costs nothing.
*/

const sharedStore = { kind: 'ClusterThalassaSecretStore', name: 'shared' } as const satisfies StoreRef;

interface Asked {
  readonly store: string;
  readonly kind: 'metadata' | 'list';
  readonly subject: string;
}

class FakeThalassa {
  readonly asked: Asked[] = [];
  readonly current = new Map<string, number>();
  readonly #hanging = new Set<string>();
  readonly #held: (() => void)[] = [];

  /** A store whose requests do not answer until release(). */
  hang(store: string): void {
    this.#hanging.add(store);
  }

  release(): void {
    this.#hanging.clear();
    for (const answer of this.#held.splice(0)) answer();
  }

  resolved(store: string): ResolvedStore {
    const wait = async (): Promise<void> => {
      if (this.#hanging.has(store)) await new Promise<void>((resolve) => this.#held.push(resolve));
    };
    const client = {
      getMetadata: async (path: string) => {
        this.asked.push({ store, kind: 'metadata', subject: path });
        await wait();
        return { path, currentVersion: this.current.get(path) ?? 1 };
      },
      list: async (prefix: string) => {
        this.asked.push({ store, kind: 'list', subject: prefix });
        await wait();
        return [...this.current].filter(([path]) => path.startsWith(prefix)).map(([path, currentVersion]) => ({ path, currentVersion }));
      },
    };
    const description = `ClusterThalassaSecretStore/${store}`;
    return {
      key: `${description}@uid:1:fingerprint`,
      description,
      store: { kind: 'ClusterThalassaSecretStore', metadata: { name: store } } as ClusterThalassaSecretStore,
      client: client as unknown as ThalassaClient,
    };
  }

  /** Requests that would have told the poller about `path`: its metadata, or a list over it. */
  covering(path: string): Asked[] {
    return this.asked.filter((a) => (a.kind === 'metadata' ? a.subject === path : path.startsWith(a.subject)));
  }
}

function thalassaSecret(namespace: string, name: string, spec: Partial<ThalassaSecretSpec>, status?: ThalassaSecretStatus): ThalassaSecret {
  return {
    apiVersion: 'secrets.thalassa.cloud/v1alpha1',
    kind: 'ThalassaSecret',
    metadata: { name, namespace },
    spec: { storeRef: sharedStore, ...spec },
    ...(status ? { status } : {}),
  };
}

function ready(syncedVersions: { path: string; version: number }[]): ThalassaSecretStatus {
  return { conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: '', lastTransitionTime: '' }], syncedVersions };
}

describe('VersionPoller', () => {
  let thalassa: FakeThalassa;
  let resources: Map<string, ThalassaSecret>;
  let queued: string[];
  let refused: Set<string>;
  let resolutions: number;
  let poller: VersionPoller;

  const add = (resource: ThalassaSecret) => {
    const key = `${resource.metadata.namespace ?? ''}/${resource.metadata.name}`;
    resources.set(key, resource);
    poller.track(key, resource);
    return key;
  };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    thalassa = new FakeThalassa();
    resources = new Map();
    queued = [];
    refused = new Set();
    resolutions = 0;
    poller = new VersionPoller({
      resources,
      resolver: {
        resolveFor: async (resource) => {
          await Promise.resolve();
          resolutions++;
          const namespace = resource.metadata.namespace ?? '';
          if (refused.has(namespace)) throw new SyncError(reasons.StoreNotAllowed, `ClusterThalassaSecretStore/shared does not allow namespace ${namespace}`);
          return thalassa.resolved(resource.spec.storeRef?.name ?? 'default');
        },
      },
      defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'default' },
      catalog: new VersionCatalog(),
      queue: { add: (key: string) => void queued.push(key) },
      defaultIntervalMs: 300_000,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
      // Every group starts half-way into its interval.
      random: () => 0.5,
    });
  });

  afterEach(async () => {
    thalassa.release();
    const stopped = poller.stop();
    await vi.runOnlyPendingTimersAsync();
    await stopped;
    vi.useRealTimers();
  });

  it('keeps polling a shared store for an allowed namespace when a refused one is tracked first', async () => {
    refused.add('refused');
    const refusedKey = add(thalassaSecret('refused', 'r', { refreshInterval: '1s', data: [{ key: 'v', path: '/shared/value' }] }));
    const allowedKey = add(thalassaSecret('allowed', 'a', { refreshInterval: '1s', data: [{ key: 'v', path: '/shared/value' }] }, ready([{ path: '/shared/value', version: 1 }])));
    poller.start();
    thalassa.current.set('/shared/value', 2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(thalassa.covering('/shared/value').length).toBeGreaterThanOrEqual(3);
    // The allowed resource is behind and queued; the refused one is queued so that its status says why.
    expect(queued).toContain(allowedKey);
    expect(queued).toContain(refusedKey);
  });

  it('queues a refused resource only while its status does not say so already', async () => {
    refused.add('refused');
    const notAllowed: ThalassaSecretStatus = {
      conditions: [{ type: 'Ready', status: 'False', reason: 'StoreNotAllowed', message: '', lastTransitionTime: '' }],
    };
    add(thalassaSecret('refused', 'r', { refreshInterval: '1s', data: [{ key: 'v', path: '/shared/value' }] }, notAllowed));
    poller.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(queued).toEqual([]);
    // Its paths are never polled on its behalf.
    expect(thalassa.asked).toEqual([]);
  });

  it('never polls a long-interval resource at the pace of a short-interval one in the same group', async () => {
    add(thalassaSecret('team-a', 'fast', { refreshInterval: '1s', data: [{ key: 'v', path: '/app/fast' }] }, ready([{ path: '/app/fast', version: 1 }])));
    const slowKey = add(thalassaSecret('team-b', 'slow', { refreshInterval: '1h', data: [{ key: 'v', path: '/app/slow' }] }, ready([{ path: '/app/slow', version: 1 }])));
    thalassa.current.set('/app/slow', 2);
    poller.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(thalassa.covering('/app/fast').length).toBeGreaterThanOrEqual(9);
    // Half an hour until its first poll: in ten seconds, nothing has looked at /app/slow.
    expect(thalassa.covering('/app/slow')).toEqual([]);
    expect(queued).not.toContain(slowKey);
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(thalassa.covering('/app/slow')).toHaveLength(1);
    expect(queued).toContain(slowKey);
  });

  it('costs one list per prefix group per interval for 10,000 unchanged resources, resolving once per namespace', async () => {
    for (let i = 0; i < 10_000; i++) {
      const path = `/app/team/r-${i}`;
      thalassa.current.set(path, 1);
      add(thalassaSecret(`ns-${i % 10}`, `r-${i}`, { refreshInterval: '5m', data: [{ key: 'v', path }] }, ready([{ path, version: 1 }])));
    }
    poller.start();
    await vi.advanceTimersByTimeAsync(3 * 300_000);
    // Polls at 2.5, 7.5 and 12.5 minutes.
    expect(thalassa.asked).toEqual(Array.from({ length: 3 }, () => ({ store: 'shared', kind: 'list', subject: '/app/team/' })));
    expect(resolutions).toBe(3 * 10);
    expect(queued).toEqual([]);
  });

  it('never polls OnChange or CreatedOnce resources; a force-sync still checks an OnChange one', async () => {
    const onChange = add(thalassaSecret('team-a', 'on-change', { refreshPolicy: 'OnChange', refreshInterval: '1s', data: [{ key: 'v', path: '/app/on-change' }] }, ready([{ path: '/app/on-change', version: 1 }])));
    const once = add(thalassaSecret('team-a', 'once', { refreshPolicy: 'CreatedOnce', refreshInterval: '1s', data: [{ key: 'v', path: '/app/once' }] }, ready([{ path: '/app/once', version: 1 }])));
    thalassa.current.set('/app/on-change', 2);
    thalassa.current.set('/app/once', 2);
    poller.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(thalassa.asked).toEqual([]);
    expect(queued).toEqual([]);
    await poller.pollNow(onChange);
    expect(thalassa.asked).toEqual([{ store: 'shared', kind: 'metadata', subject: '/app/on-change' }]);
    await poller.pollNow(once);
    // Nothing to check for CreatedOnce (it is never written again); the reconcile says so.
    expect(thalassa.asked).toHaveLength(1);
    expect(queued).toEqual([onChange, once]);
  });

  it('puts the default store, named or implied, into one poll group', async () => {
    add(thalassaSecret('team-a', 'implied', { storeRef: undefined, refreshInterval: '1m', data: [{ key: 'v', path: '/app/a' }] }, ready([{ path: '/app/a', version: 1 }])));
    add(thalassaSecret('team-b', 'named', { storeRef: { kind: 'ClusterThalassaSecretStore', name: 'default' }, refreshInterval: '1m', data: [{ key: 'v', path: '/app/b' }] }, ready([{ path: '/app/b', version: 1 }])));
    poller.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(thalassa.asked).toEqual([{ store: 'default', kind: 'list', subject: '/app/' }]);
  });

  it('keeps polling every other store while one store never answers', async () => {
    thalassa.hang('stuck');
    add(thalassaSecret('team-a', 'stuck', { storeRef: { kind: 'ClusterThalassaSecretStore', name: 'stuck' }, refreshInterval: '1s', data: [{ key: 'v', path: '/a/x' }] }));
    add(thalassaSecret('team-b', 'fine', { refreshInterval: '1s', data: [{ key: 'v', path: '/b/x' }] }, ready([{ path: '/b/x', version: 1 }])));
    poller.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(thalassa.asked.filter((a) => a.store === 'shared').length).toBeGreaterThanOrEqual(9);
    // The stuck group is not asked again while its first request hangs.
    expect(thalassa.asked.filter((a) => a.store === 'stuck')).toHaveLength(1);
  });

  it('keeps a group\'s schedule when a member joins it, and polls the newcomer with the group', async () => {
    add(thalassaSecret('team-a', 'first', { refreshInterval: '1m', data: [{ key: 'v', path: '/app/x/a' }] }, ready([{ path: '/app/x/a', version: 1 }])));
    poller.start();
    // Placed at the first tick (1 s), half-way into its interval: due at 31 s.
    await vi.advanceTimersByTimeAsync(31_000);
    expect(thalassa.asked).toEqual([{ store: 'shared', kind: 'metadata', subject: '/app/x/a' }]);
    add(thalassaSecret('team-b', 'second', { refreshInterval: '1m', data: [{ key: 'v', path: '/app/y/b' }] }, ready([{ path: '/app/y/b', version: 1 }])));
    // Not placed again half-way from now (70 s): the group keeps its time, 91 s.
    await vi.advanceTimersByTimeAsync(59_000);
    expect(thalassa.asked).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(thalassa.asked.slice(1)).toEqual([{ store: 'shared', kind: 'list', subject: '/app/' }]);
  });

  it('narrows a group\'s request when a member leaves, and stops polling a group whose last member left', async () => {
    add(thalassaSecret('team-a', 'a', { refreshInterval: '1m', data: [{ key: 'v', path: '/app/x/a' }] }, ready([{ path: '/app/x/a', version: 1 }])));
    const bKey = add(thalassaSecret('team-b', 'b', { refreshInterval: '1m', data: [{ key: 'v', path: '/app/y/b' }] }, ready([{ path: '/app/y/b', version: 1 }])));
    poller.start();
    await vi.advanceTimersByTimeAsync(31_000);
    expect(thalassa.asked).toEqual([{ store: 'shared', kind: 'list', subject: '/app/' }]);
    resources.delete(bKey);
    poller.track(bKey, undefined);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(thalassa.asked.slice(1)).toEqual([{ store: 'shared', kind: 'metadata', subject: '/app/x/a' }]);
    poller.track('team-a/a', undefined);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(thalassa.asked).toHaveLength(2);
    expect(poller.trackedCount).toBe(0);
  });

  it('moves a resource whose interval changed to the pace it asks for now', async () => {
    const spec = { data: [{ key: 'v', path: '/app/a' }] };
    const key = add(thalassaSecret('team-a', 'a', { refreshInterval: '1h', ...spec }, ready([{ path: '/app/a', version: 1 }])));
    poller.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(thalassa.asked).toEqual([]);
    add(thalassaSecret('team-a', 'a', { refreshInterval: '2s', ...spec }, ready([{ path: '/app/a', version: 1 }])));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(thalassa.covering('/app/a').length).toBeGreaterThanOrEqual(4);
    // Nothing remains of the hourly group: half an hour on, only the 2 s polls.
    const polls = thalassa.asked.length;
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(thalassa.asked.length - polls).toBe(900);
    expect(queued).not.toContain(key);
  });

  it('does not poll again a group whose last member left while its poll hung', async () => {
    thalassa.hang('stuck');
    const key = add(thalassaSecret('team-a', 'stuck', { storeRef: { kind: 'ClusterThalassaSecretStore', name: 'stuck' }, refreshInterval: '1s', data: [{ key: 'v', path: '/a/x' }] }));
    poller.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(thalassa.asked).toHaveLength(1);
    resources.delete(key);
    poller.track(key, undefined);
    thalassa.release();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(thalassa.asked).toHaveLength(1);
  });

  it.for([
    ['pinned first', [2, 5]],
    ['followed first', [5, 2]],
  ] as const)('tells a followed path behind when a pinned key holds another version of it (%s)', async ([, order]) => {
    const spec = { refreshInterval: '1s', data: [{ key: 'pinned', path: '/p/s', version: 2 }, { key: 'latest', path: '/p/s' }] };
    const key = add(thalassaSecret('team-a', 'both', spec, ready(order.map((version) => ({ path: '/p/s', version })))));
    thalassa.current.set('/p/s', 5);
    poller.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(thalassa.asked.length).toBeGreaterThanOrEqual(2);
    expect(queued).toEqual([]);
    thalassa.current.set('/p/s', 6);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(queued).toContain(key);
  });

  it('tells a prefix member behind when a pinned key holds another version of it', async () => {
    const spec = { refreshInterval: '1s', data: [{ key: 'pinned', path: '/p/dir/s', version: 2 }], dataFrom: [{ pathPrefix: '/p/dir/' }] };
    const synced = [{ path: '/p/dir/s', version: 5 }, { path: '/p/dir/s', version: 2 }];
    const key = add(thalassaSecret('team-a', 'prefix', spec, ready(synced)));
    thalassa.current.set('/p/dir/s', 5);
    poller.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(thalassa.asked.length).toBeGreaterThanOrEqual(2);
    expect(queued).toEqual([]);
    thalassa.current.set('/p/dir/s', 6);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(queued).toContain(key);
  });
});
