import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import { fullJitterDelay } from '../thalassa/backoff.ts';
import { RateLimitedError, UnavailableError, type ThalassaClient } from '../thalassa/index.ts';
import { parseDuration, pollRequests, type PollRequest } from './poll-groups.ts';
import { isSecretGone, remoteFailure } from './remote-failure.ts';
import type { ResolvedStore, StoreResolver } from './store-resolver.ts';
import type { VersionCatalog } from './version-catalog.ts';

interface Tracked {
  readonly key: string;
  /** Which store, from the spec alone (resolving it is the poll's job). */
  readonly store: string;
  readonly intervalMs: number;
  readonly paths: readonly string[];
  readonly prefixes: readonly string[];
}

interface GroupSchedule {
  dueAt: number;
  failures: number;
}

export interface VersionPollerOptions {
  readonly resources: { get(key: string): ThalassaSecret | undefined };
  readonly resolver: StoreResolver;
  readonly catalog: VersionCatalog;
  readonly queue: WorkQueue;
  readonly defaultIntervalMs: number;
  /** How often due groups are looked for. */
  readonly tickMs?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly random?: () => number;
}

/** The most requests one store has in flight for polling. */
const concurrencyPerStore = 4;
const maxBackoffMs = 30 * 60_000;
/**
Retries of one poll request (the client's backoff and Retry-After apply). One: a single dropped
connection or 5xx must not mark every resource of the group as failing (one status write and one
Warning Event each); a store that fails twice in a row is polled less often, as below.
*/
export const pollRetries = 1;

/**
The rotation controller: finds new versions of every secret followed at "latest" by reading
version metadata, never values, and enqueues a sync only for resources whose Secret is behind.
Followed secrets are polled per store and group (see poll-groups.ts), each group at the shortest
refresh interval among the resources that follow it, starting at a random point of that interval
so that a restart does not poll everything at once. A rate-limited or failing store is polled
less often (doubling, honouring Retry-After), never more.
*/
export class VersionPoller {
  readonly #options: VersionPollerOptions;
  readonly #tracked = new Map<string, Tracked>();
  readonly #schedule = new Map<string, GroupSchedule>();
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(options: VersionPollerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Records what a resource follows (or that it is gone: undefined). */
  track(key: string, resource: ThalassaSecret | undefined): void {
    const tracked = resource ? this.#toTracked(key, resource) : undefined;
    if (tracked) this.#tracked.set(key, tracked);
    else this.#tracked.delete(key);
  }

  get trackedCount(): number {
    return this.#tracked.size;
  }

  start(): void {
    if (this.#timer) return;
    this.#stopped = false;
    this.#timer = setInterval(() => {
      this.#round ??= this.#pollDue().finally(() => {
        this.#round = undefined;
      });
    }, this.#options.tickMs ?? 1000);
    this.#timer.unref();
  }

  /** Stops polling; resolves when a round in progress has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** Checks one resource's followed secrets now (force-sync), then queues it at high priority. */
  async pollNow(key: string): Promise<void> {
    const resource = this.#options.resources.get(key);
    const tracked = this.#tracked.get(key);
    if (resource && tracked) {
      const store = await this.#options.resolver.resolveFor(resource).catch(() => undefined);
      if (store) {
        const requests: PollRequest[] = [
          ...tracked.paths.map((path) => ({ kind: 'metadata' as const, path })),
          ...tracked.prefixes.map((prefix) => ({ kind: 'list' as const, prefix, paths: [], prefixes: [prefix] })),
        ];
        await Promise.all(requests.map(async (request) => await this.#executeRecordingFailure(store, request).catch(() => undefined)));
      }
    }
    this.#options.queue.add(key, 'high');
  }

  /** Runs a poll request; a failure is recorded for the paths it covers, so their resources say why. */
  async #executeRecordingFailure(store: ResolvedStore, request: PollRequest): Promise<void> {
    try {
      await this.#execute(store, request);
    } catch (error) {
      const failure = remoteFailure(error, store.description);
      const covered = request.kind === 'metadata' ? [request.path] : [...request.paths, ...request.prefixes];
      for (const pathOrPrefix of covered) this.#options.catalog.setFailure(store.key, pathOrPrefix, failure);
      throw error;
    }
  }

  #toTracked(key: string, resource: ThalassaSecret): Tracked | undefined {
    const spec = resource.spec;
    let intervalMs: number;
    try {
      intervalMs = spec.refreshInterval === undefined ? this.#options.defaultIntervalMs : parseDuration(spec.refreshInterval);
    } catch {
      intervalMs = this.#options.defaultIntervalMs;
    }
    const paths = [
      ...(spec.data ?? []).filter((d) => d.version === undefined).map((d) => d.path),
      ...(spec.dataFrom ?? []).flatMap((d) => (d.path !== undefined && d.version === undefined ? [d.path] : [])),
    ];
    const prefixes = (spec.dataFrom ?? []).flatMap((d) => (d.pathPrefix === undefined ? [] : [d.pathPrefix]));
    // Kept even with refresh off (interval 0): a force-sync still needs to know what to check.
    if (paths.length + prefixes.length === 0) return undefined;
    const ref = spec.storeRef;
    const store =
      ref === undefined
        ? 'default'
        : (ref.kind ?? 'ThalassaSecretStore') === 'ThalassaSecretStore'
          ? `ns/${resource.metadata.namespace ?? ''}/${ref.name}`
          : `cluster/${ref.name}`;
    return { key, store, intervalMs, paths: [...new Set(paths)], prefixes: [...new Set(prefixes)] };
  }

  async #pollDue(): Promise<void> {
    const now = Date.now();
    const byStore = new Map<string, Tracked[]>();
    for (const tracked of this.#tracked.values()) {
      if (tracked.intervalMs <= 0) continue;
      let list = byStore.get(tracked.store);
      if (!list) byStore.set(tracked.store, (list = []));
      list.push(tracked);
    }
    const seenGroups = new Set<string>();
    await Promise.all(
      [...byStore].map(async ([storeName, members]) => {
        const paths = new Set(members.flatMap((m) => m.paths));
        const prefixes = new Set(members.flatMap((m) => m.prefixes));
        const due: PollRequest[] = [];
        for (const request of pollRequests({ paths, prefixes })) {
          const groupKey = `${storeName}|${request.kind === 'list' ? request.prefix : request.path}`;
          seenGroups.add(groupKey);
          const interval = Math.min(...members.filter((m) => covers(request, m)).map((m) => m.intervalMs));
          const schedule = this.#schedule.get(groupKey);
          if (!schedule) {
            // A new group starts at a random point of its interval: no lockstep after a restart.
            this.#schedule.set(groupKey, { dueAt: now + this.#random() * interval, failures: 0 });
            continue;
          }
          if (now >= schedule.dueAt) {
            due.push(request);
            schedule.dueAt = now + interval;
          }
        }
        if (due.length === 0 || this.#stopped) return;
        const representative = members.map((m) => this.#options.resources.get(m.key)).find((r) => r !== undefined);
        if (!representative) return;
        const store = await this.#options.resolver.resolveFor(representative).catch(() => undefined);
        if (!store) return;
        await runLimited(due, concurrencyPerStore, async (request) => await this.#pollGroup(storeName, store, request, members));
      }),
    );
    for (const key of this.#schedule.keys()) if (!seenGroups.has(key)) this.#schedule.delete(key);
  }

  async #pollGroup(storeName: string, store: ResolvedStore, request: PollRequest, members: readonly Tracked[]): Promise<void> {
    const groupKey = `${storeName}|${request.kind === 'list' ? request.prefix : request.path}`;
    const schedule = this.#schedule.get(groupKey);
    try {
      await this.#executeRecordingFailure(store, request);
      if (schedule) schedule.failures = 0;
    } catch (error) {
      for (const member of members) if (covers(request, member)) this.#options.queue.add(member.key, 'low');
      if (!schedule) return;
      // Slow down: the next poll waits at least as long as the server asked, and longer each time.
      schedule.failures++;
      const retryAfter = error instanceof RateLimitedError || error instanceof UnavailableError ? (error.retryAfterMs ?? 0) : 0;
      const interval = schedule.dueAt - Date.now();
      const backoff = Math.min(maxBackoffMs, Math.max(interval, 1000) * 2 ** Math.min(schedule.failures, 5));
      schedule.dueAt = Date.now() + Math.max(retryAfter, backoff / 2 + fullJitterDelay(0, { baseMs: backoff / 2, maxMs: backoff / 2 }, this.#random));
      this.#options.logger.warn({ store: store.description, group: groupKey, err: error, nextPollInMs: schedule.dueAt - Date.now() }, 'version poll failed');
      return;
    }
    for (const member of members) {
      if (covers(request, member)) this.#enqueueIfBehind(store, member);
    }
  }

  async #execute(store: ResolvedStore, request: PollRequest): Promise<void> {
    const { catalog, metrics } = this.#options;
    const client: ThalassaClient = store.client;
    if (request.kind === 'metadata') {
      metrics.pollRequests.inc({ kind: 'metadata' });
      try {
        const metadata = await client.getMetadata(request.path, { retryLimit: pollRetries });
        catalog.setCurrent(store.key, request.path, metadata.currentVersion, metadata.updatedAt);
      } catch (error) {
        if (!isSecretGone(error)) throw error;
        catalog.setMissing(store.key, request.path);
      }
      return;
    }
    metrics.pollRequests.inc({ kind: 'list' });
    const listed = await client.list(request.prefix, { retryLimit: pollRetries });
    catalog.recordList(store.key, request.prefix, listed, { paths: request.paths, prefixes: request.prefixes });
  }

  /** Queues the resource when what Thalassa has differs from what its Secret holds. */
  #enqueueIfBehind(store: ResolvedStore, tracked: Tracked): void {
    const resource = this.#options.resources.get(tracked.key);
    if (!resource) return;
    // After a failed poll (or any failure), a good poll is the moment to try again. That includes
    // a resource that failed before its first sync, which has no versions to compare: it would
    // otherwise wait out its own backoff, which keeps growing while polls fail now and then.
    if (resource.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') {
      this.#options.queue.add(tracked.key, 'low');
      return;
    }
    const synced = resource.status.syncedVersions;
    if (!synced) return;
    const held = new Map(synced.map((v) => [v.path, v.version]));
    const catalog = this.#options.catalog;
    const behind = (path: string) => {
      const known = catalog.current(store.key, path);
      return known === 'missing' || (known !== undefined && known.version !== held.get(path));
    };
    let changed = tracked.paths.some(behind);
    for (const prefix of tracked.prefixes) {
      if (changed) break;
      const members = catalog.prefixMembers(store.key, prefix)?.paths;
      if (!members) continue;
      const heldUnderPrefix = [...held.keys()].filter((p) => p.startsWith(prefix) && !tracked.paths.includes(p));
      const memberSet = new Set(members);
      changed = members.some(behind) || heldUnderPrefix.some((p) => !memberSet.has(p) && !isPinned(resource, p));
    }
    if (changed) this.#options.queue.add(tracked.key, 'low');
  }
}

function isPinned(resource: ThalassaSecret, path: string): boolean {
  return (resource.spec.data ?? []).some((d) => d.path === path && d.version !== undefined) || (resource.spec.dataFrom ?? []).some((d) => d.path === path && d.version !== undefined);
}

function covers(request: PollRequest, tracked: Tracked): boolean {
  if (request.kind === 'metadata') return tracked.paths.includes(request.path);
  return tracked.paths.some((p) => p.startsWith(request.prefix)) || tracked.prefixes.some((p) => p.startsWith(request.prefix));
}

async function runLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i];
        if (item !== undefined) await run(item);
      }
    }),
  );
}
