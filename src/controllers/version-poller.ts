import { minRefreshInterval, refreshPolicyOf, type ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { WorkQueue } from '../runtime/workqueue.ts';
import { MinHeap } from '../runtime/min-heap.ts';
import { fullJitterDelay } from '../runtime/backoff.ts';
import { RateLimitedError, UnavailableError, type ThalassaClient } from '../thalassa/index.ts';
import { parseDuration, pollRequests, type PollRequest } from './poll-groups.ts';
import { PollIndex, type PollGroup, type PollIndexChange, type PollMember } from './poll-index.ts';
import { isSecretGone, remoteFailure } from './remote-failure.ts';
import type { ResolvedStore, StoreResolver } from './store-resolver.ts';
import { storeOf, type DefaultStore } from './store-ref.ts';
import { SyncError } from './sync-error.ts';
import type { VersionCatalog } from './version-catalog.ts';

/** When a poll group is next due, and how its polls have gone. */
interface GroupSchedule {
  readonly group: PollGroup;
  /** Unset until the first tick after the group came to be, which places it at random in its interval. */
  dueAt: number | undefined;
  failures: number;
  /**
  A poll of this group is under way: it is not started again until that one ends, and it is out
  of the heap until then (it goes back in with the due time its outcome decided).
  */
  inFlight: boolean;
}

/** A schedule in the heap, at the due time it had when pushed; stale when that is no longer its due time. */
interface HeapEntry {
  readonly schedule: GroupSchedule;
  readonly dueAt: number;
}

export interface VersionPollerOptions {
  readonly resources: { get(key: string): ThalassaSecret | undefined };
  readonly resolver: Pick<StoreResolver, 'resolveFor'>;
  /** The store of resources without storeRef (`--default-store`). */
  readonly defaultStore: DefaultStore;
  readonly catalog: VersionCatalog;
  readonly queue: Pick<WorkQueue, 'add'>;
  readonly defaultIntervalMs: number;
  /** How often due groups are looked for. */
  readonly tickMs?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly random?: () => number;
}

/** The most requests one store has in flight for polling. */
const concurrencyPerStore = 4;
/** Admission refuses a shorter refreshInterval; an object stored before that rule is held to it here. */
const minIntervalMs = parseDuration(minRefreshInterval);
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

Followed secrets are polled per store, per refresh interval and per group (see poll-groups.ts):
resources with different intervals never share a poll, so no resource makes another one's secrets
be polled (and its Secret rewritten, its workloads restarted) sooner than that one's own interval
asks. A group starts at a random point of its interval so that a restart does not poll everything
at once. Every store's polls run on their own: a slow or failing store delays no other store's.

A shared (cluster) store is resolved for each namespace among a due group's resources: resources
the store refuses, or whose resolution fails, are left out of the poll and queued so that their
own status says why; the others are polled as if they were alone. A rate-limited or failing store
is polled less often (doubling, honouring Retry-After), never more.

Nothing is made again from every resource: track() (watch events) updates the groups of that one
resource in poll-index.ts, and the groups wait in a min-heap by due time, so a tick costs the
groups that are due, not the resources tracked.
*/
export class VersionPoller {
  readonly #options: VersionPollerOptions;
  /** Every tracked resource and the poll groups, kept up to date by track(). */
  readonly #index = new PollIndex();
  readonly #schedules = new Map<PollGroup, GroupSchedule>();
  /** Groups that came to be since the last tick, to be placed in their interval. */
  readonly #unscheduled = new Set<GroupSchedule>();
  /** Every scheduled group not in flight, earliest due first: a tick looks only at the due ones. */
  readonly #due = new MinHeap<HeapEntry>((entry) => entry.dueAt);
  /** Heap entries of groups since removed (or otherwise stale), dropped when they come up or by compaction. */
  #stale = 0;
  /** By store (store-ref key): every poll request to that store passes it. */
  readonly #limits = new Map<string, ConcurrencyLimit>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: VersionPollerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Records what a resource follows (or that it is gone: undefined). */
  track(key: string, resource: ThalassaSecret | undefined): void {
    this.#apply(this.#index.update(key, resource ? this.#toTracked(key, resource) : undefined));
  }

  get trackedCount(): number {
    return this.#index.size;
  }

  /** The schedules of groups that came to be and went, after an update of the index. */
  #apply(change: PollIndexChange): void {
    for (const group of change.removed) {
      const schedule = this.#schedules.get(group);
      this.#schedules.delete(group);
      if (!schedule) continue;
      this.#unscheduled.delete(schedule);
      // Its heap entry stays until it comes up; one in flight is not in the heap.
      if (schedule.dueAt !== undefined && !schedule.inFlight) this.#stale++;
      this.#dropLimitIfUnused(group.store);
    }
    for (const group of change.added) {
      const schedule: GroupSchedule = { group, dueAt: undefined, failures: 0, inFlight: false };
      this.#schedules.set(group, schedule);
      this.#unscheduled.add(schedule);
    }
    // Removed groups' entries are dropped as they come up; when they are most of the heap, at once.
    if (this.#stale > 64 && this.#stale * 2 > this.#due.size) this.#compact();
  }

  #compact(): void {
    const live: HeapEntry[] = [];
    for (let entry = this.#due.pop(); entry; entry = this.#due.pop()) if (!isStale(entry)) live.push(entry);
    for (const entry of live) this.#due.push(entry);
    this.#stale = 0;
  }

  #dropLimitIfUnused(store: string): void {
    if (!this.#index.hasGroups(store) && this.#limits.get(store)?.idle === true) this.#limits.delete(store);
  }

  start(): void {
    if (this.#timer) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.#startDue(), this.#options.tickMs ?? 1000);
    this.#timer.unref();
  }

  /** Stops polling; resolves when the polls under way have ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Checks one resource's followed secrets now (force-sync), then queues it at high priority. */
  async pollNow(key: string): Promise<void> {
    const resource = this.#options.resources.get(key);
    const tracked = this.#index.get(key);
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

  #toTracked(key: string, resource: ThalassaSecret): PollMember | undefined {
    const spec = resource.spec;
    let intervalMs: number;
    try {
      intervalMs = spec.refreshInterval === undefined ? this.#options.defaultIntervalMs : parseDuration(spec.refreshInterval);
    } catch {
      intervalMs = this.#options.defaultIntervalMs;
    }
    if (intervalMs > 0) intervalMs = Math.max(intervalMs, minIntervalMs);
    // OnChange is never polled (interval 0), only kept for force-sync; CreatedOnce not even that.
    const policy = refreshPolicyOf(resource);
    if (policy === 'CreatedOnce') return undefined;
    if (policy === 'OnChange') intervalMs = 0;
    const paths = [
      ...(spec.data ?? []).filter((d) => d.version === undefined).map((d) => d.path),
      ...(spec.dataFrom ?? []).flatMap((d) => (d.path !== undefined && d.version === undefined ? [d.path] : [])),
    ];
    const prefixes = (spec.dataFrom ?? []).flatMap((d) => (d.pathPrefix === undefined ? [] : [d.pathPrefix]));
    // Kept even with refresh off (interval 0): a force-sync still needs to know what to check.
    if (paths.length + prefixes.length === 0) return undefined;
    const store = storeOf(resource, this.#options.defaultStore).key;
    const namespace = resource.metadata.namespace ?? '';
    return { key, namespace, store, intervalMs, paths: [...new Set(paths)], prefixes: [...new Set(prefixes)] };
  }

  /**
  Starts the polls that are due, without waiting for them: a poll that hangs (a slow store, a slow
  namespace read) holds back its own group only, never the others' schedules. Costs the groups
  that came to be since the last tick and the groups that are due, whatever the number of groups
  and resources.
  */
  #startDue(): void {
    if (this.#stopped) return;
    const now = Date.now();
    for (const schedule of this.#unscheduled) {
      // A new group starts at a random point of its interval: no lockstep after a restart.
      schedule.dueAt = now + this.#random() * schedule.group.intervalMs;
      this.#due.push({ schedule, dueAt: schedule.dueAt });
    }
    this.#unscheduled.clear();
    const dueByStore = new Map<string, GroupSchedule[]>();
    for (let next = this.#due.peek(); next && next.dueAt <= now; next = this.#due.peek()) {
      this.#due.pop();
      if (isStale(next)) {
        this.#stale = Math.max(0, this.#stale - 1);
        continue;
      }
      const schedule = next.schedule;
      schedule.dueAt = now + schedule.group.intervalMs;
      schedule.inFlight = true;
      let due = dueByStore.get(schedule.group.store);
      if (!due) dueByStore.set(schedule.group.store, (due = []));
      due.push(schedule);
    }
    for (const [store, due] of dueByStore) {
      const poll = this.#pollGroups(store, due).finally(() => {
        this.#inFlight.delete(poll);
        this.#dropLimitIfUnused(store);
      });
      this.#inFlight.add(poll);
    }
  }

  /**
  Polls the due groups of one store. The store is resolved for each namespace among the members
  (once per call: every member of a namespace gets the same answer), and each group is polled for
  the members that may use it, through that resolution; the others are queued to say why. Each
  group goes back into the heap as soon as its own poll ended.
  */
  async #pollGroups(storeName: string, due: readonly GroupSchedule[]): Promise<void> {
    const byNamespace = new Map<string, Promise<ResolvedStore | Error | undefined>>();
    const resolve = async (namespace: string, members: ReadonlyMap<string, PollMember>): Promise<ResolvedStore | Error | undefined> => {
      let resolution = byNamespace.get(namespace);
      if (!resolution) {
        // Any member will do: the namespace and the store decide the answer, and all of them use this store.
        const resource = firstDefined(members.keys(), (key) => this.#options.resources.get(key));
        if (!resource) return undefined;
        resolution = this.#options.resolver.resolveFor(resource).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
        byNamespace.set(namespace, resolution);
      }
      return await resolution;
    };
    let limit = this.#limits.get(storeName);
    if (!limit) this.#limits.set(storeName, (limit = new ConcurrencyLimit(concurrencyPerStore)));
    const storeLimit = limit;
    await Promise.all(
      due.map(async (schedule) => {
        try {
          await this.#pollDueGroup(schedule, resolve, storeLimit);
        } finally {
          schedule.inFlight = false;
          if (schedule.group.live && schedule.dueAt !== undefined) this.#due.push({ schedule, dueAt: schedule.dueAt });
        }
      }),
    );
  }

  async #pollDueGroup(
    schedule: GroupSchedule,
    resolve: (namespace: string, members: ReadonlyMap<string, PollMember>) => Promise<ResolvedStore | Error | undefined>,
    storeLimit: ConcurrencyLimit,
  ): Promise<void> {
    const group = schedule.group;
    // Through each resolution (normally one: the same store client for every namespace), the members it serves.
    const served = new Map<string, { store: ResolvedStore; members: PollMember[] }>();
    // Every namespace's resolution starts at once; none waits for another's.
    const outcomes = await Promise.all([...group.byNamespace].map(async ([namespace, members]) => ({ members, resolved: await resolve(namespace, members) })));
    for (const { members, resolved } of outcomes) {
      if (resolved === undefined) continue;
      if (resolved instanceof Error) {
        for (const member of members.values()) this.#reportUnresolved(member, resolved);
        continue;
      }
      let entry = served.get(resolved.key);
      if (!entry) served.set(resolved.key, (entry = { store: resolved, members: [] }));
      for (const member of members.values()) entry.members.push(member);
    }
    // The group's own request when it serves every member through one resolution, as it normally does.
    const whole = served.size === 1 && [...served.values()][0]?.members.length === group.size;
    for (const { store, members } of served.values()) {
      const request = whole ? group.request : narrowed(group.request, members);
      if (!request || this.#stopped) continue;
      await storeLimit.run(async () => await this.#pollGroup(schedule, store, request, members));
    }
  }

  /**
  A member the store refuses, or for which it cannot be resolved, is not polled. Its reconcile
  reports the reason; it is queued only when its status does not say so already, so a refused
  resource costs one reconcile, not one per interval.
  */
  #reportUnresolved(member: PollMember, error: Error): void {
    const ready = this.#options.resources.get(member.key)?.status?.conditions?.find((c) => c.type === 'Ready');
    const reported = error instanceof SyncError && ready?.status === 'False' && ready.reason === error.reason;
    if (!reported) this.#options.queue.add(member.key, 'low');
  }

  async #pollGroup(schedule: GroupSchedule, store: ResolvedStore, request: PollRequest, members: readonly PollMember[]): Promise<void> {
    try {
      await this.#executeRecordingFailure(store, request);
      schedule.failures = 0;
    } catch (error) {
      for (const member of members) this.#options.queue.add(member.key, 'low');
      // Slow down: the next poll waits at least as long as the server asked, and longer each time.
      schedule.failures++;
      const retryAfter = error instanceof RateLimitedError || error instanceof UnavailableError ? (error.retryAfterMs ?? 0) : 0;
      const interval = (schedule.dueAt ?? Date.now()) - Date.now();
      const backoff = Math.min(maxBackoffMs, Math.max(interval, 1000) * 2 ** Math.min(schedule.failures, 5));
      schedule.dueAt = Date.now() + Math.max(retryAfter, backoff / 2 + fullJitterDelay(0, { baseMs: backoff / 2, maxMs: backoff / 2 }, this.#random));
      this.#options.logger.warn({ store: store.description, group: schedule.group.key, err: error, nextPollInMs: schedule.dueAt - Date.now() }, 'version poll failed');
      return;
    }
    for (const member of members) this.#enqueueIfBehind(store, member);
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
  #enqueueIfBehind(store: ResolvedStore, tracked: PollMember): void {
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
    // Every version held per path: one key may pin version 2 of a path that another key follows,
    // and the followed one is current only if the current version is among them.
    const held = new Map<string, Set<number>>();
    for (const { path, version } of synced) {
      let versions = held.get(path);
      if (!versions) held.set(path, (versions = new Set()));
      versions.add(version);
    }
    const catalog = this.#options.catalog;
    const behind = (path: string) => {
      const known = catalog.current(store.key, path);
      return known === 'missing' || (known !== undefined && held.get(path)?.has(known.version) !== true);
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

function isStale(entry: HeapEntry): boolean {
  const schedule = entry.schedule;
  return !schedule.group.live || schedule.inFlight || entry.dueAt !== schedule.dueAt;
}

function firstDefined<K, V>(keys: Iterable<K>, get: (key: K) => V | undefined): V | undefined {
  for (const key of keys) {
    const value = get(key);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
The part of a group's request that serves `members`: the whole request when they are all its
members, else the request pollRequests makes for their paths alone (one: they share the group's
first segment), or nothing when none of the group's paths and prefixes is theirs.
*/
function narrowed(request: PollRequest, members: readonly PollMember[]): PollRequest | undefined {
  if (request.kind === 'metadata') return members.some((m) => m.paths.includes(request.path)) ? request : undefined;
  const theirPaths = new Set(members.flatMap((m) => m.paths));
  const theirPrefixes = new Set(members.flatMap((m) => m.prefixes));
  const paths = request.paths.filter((p) => theirPaths.has(p));
  const prefixes = request.prefixes.filter((p) => theirPrefixes.has(p));
  if (paths.length === request.paths.length && prefixes.length === request.prefixes.length) return request;
  return pollRequests({ paths: new Set(paths), prefixes: new Set(prefixes) })[0];
}

/** At most `limit` tasks at once; the others wait their turn, first come first served. */
class ConcurrencyLimit {
  readonly #limit: number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get idle(): boolean {
    return this.#active === 0;
  }

  async run(task: () => Promise<void>): Promise<void> {
    if (this.#active < this.#limit) this.#active++;
    // A finishing task hands its slot straight to the next in line, so #active stays as it is.
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
