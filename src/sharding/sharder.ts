/**
The sharder: on the leader, it watches the member Leases of its ring and every ThalassaSecret, and
writes each ThalassaSecret's owner into a label that the members select on (the design of
timebertt/kubernetes-controller-sharding; docs/scaling.md).

An object moves from a live member only through that member: the sharder adds the drain label,
the owner lets its in-flight work end, then removes both labels in one conditional patch, and only
then does the sharder name the new owner. An object of a member that released its Lease (SIGTERM)
is moved directly. A member whose Lease this process has not seen renewed for leaseDuration is
first fenced: the sharder takes its Lease over with a write conditional on the version it saw
unchanged that long, so a renewal that landed meanwhile (a slow watch, a member that just woke)
makes the takeover fail, and a member that wakes later finds its Lease held by another and exits.
Its own writes stopped renewDeadline after its last renewal was sent; only after the takeover are
its objects moved.
*/
import { setTimeout as sleep } from 'node:timers/promises';
import { group } from '../api/v1alpha1/common.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { Informer, objectKey } from '../kube/informer.ts';
import { contentTypes, microTime, paths, type KubeClient } from '../kube/kube-client.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { HashRing } from './ring.ts';
import { memberLeaseName, shardDrainLabel, shardKeyOf, shardMemberLabel, sharderFieldManager, shardRingLabel, type ShardKey } from './labels.ts';
import { runLimited } from '../runtime/run-limited.ts';

/** The holder the sharder writes into a dead member's Lease: no member has this identity (it is not a DNS label). */
export const fencedHolder = 'fenced/by-sharder';

/** The resources the sharder assigns: any cache of every ThalassaSecret (the leader's). */
export interface ShardedResources {
  list(): KubeObject[];
  readonly synced: Promise<void>;
  addHandlers(handlers: { onAdd?(o: KubeObject): void; onUpdate?(p: KubeObject, c: KubeObject): void; onDelete?(o: KubeObject): void }): void;
}

export interface SharderOptions {
  /** Fenced by the leader lease: a deposed sharder writes no label. */
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly ring: string;
  readonly key: ShardKey;
  /** A member Lease unchanged this long (by this process's clock) is dead. */
  readonly leaseDurationMs: number;
  readonly resources: ShardedResources;
  readonly virtualNodes?: number | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface MemberLease extends KubeObject {
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly renewTime?: string;
    readonly acquireTime?: string;
    readonly leaseDurationSeconds?: number;
    readonly leaseTransitions?: number;
  };
}

interface Observation {
  readonly record: string;
  readonly at: number;
}

/** Label patches in flight at once: 1,000 moves take a few seconds without flooding the API server. */
const patchConcurrency = 16;
/** Events within this window make one pass. */
const debounceMs = 100;

export class Sharder {
  readonly #options: SharderOptions;
  readonly #leases: Informer<MemberLease>;
  readonly #observed = new Map<string, Observation>();
  /** The resourceVersion each object had when a patch was last sent for it: the cache may not show the patch yet. */
  readonly #acted = new Map<string, string>();
  readonly #abort = new AbortController();
  readonly #now: () => number;
  #startedAt = 0;
  #ring: HashRing | undefined;
  #pending = false;
  /** Something changed, or a pass left work undone (a 409, a member not fenced yet): the next tick makes a pass. */
  #dirty = true;
  /** Each shard key's owner on the current ring: a pass over 100,000 objects then hashes only new ones. */
  #owners = new Map<string, string>();
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: SharderOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#leases = new Informer<MemberLease>({
      name: 'member-leases',
      client: options.kube,
      path: paths.leases(options.namespace),
      labelSelector: `${shardRingLabel}=${options.ring}`,
      logger: options.logger,
    });
    // Observed when the event arrives, not at the next pass: expiry counts from the moment this process saw a renewal.
    this.#leases.addHandlers({
      onAdd: (lease) => this.#observe(lease),
      onUpdate: (_previous, lease) => this.#observe(lease),
      onDelete: (lease) => {
        this.#observed.delete(lease.metadata.name);
        this.#schedule();
      },
    });
    options.resources.addHandlers({
      onAdd: () => this.#schedule(),
      onUpdate: (previous, current) => {
        if (JSON.stringify(previous.metadata.labels ?? {}) !== JSON.stringify(current.metadata.labels ?? {})) this.#schedule();
      },
      onDelete: (object) => this.#acted.delete(objectKey(object)),
    });
  }

  /** The live members, as of the last pass. */
  get members(): readonly string[] {
    return this.#ring?.members ?? [];
  }

  start(): void {
    if (this.#loop) return;
    this.#startedAt = this.#now();
    this.#leases.start();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#loop;
    await this.#running;
    await this.#leases.stop();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    await Promise.all([this.#leases.synced, this.#options.resources.synced]);
    // Expiry is seen by time passing, not by an event: look again a few times per lease duration.
    const tick = Math.max(250, Math.min(1000, this.#options.leaseDurationMs / 4));
    while (!signal.aborted) {
      // Between events a tick costs a look at the Leases, not a pass over every object.
      if (this.#dirty || !this.#ring?.sameMembers(this.#liveMembers())) {
        this.#pending = true;
        this.#kick();
      }
      await sleep(tick, undefined, { signal }).catch(() => undefined);
    }
  }

  #schedule(): void {
    this.#dirty = true;
    if (this.#timer || this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pending = true;
      this.#kick();
    }, debounceMs);
  }

  /** One pass at a time; a pass asked for meanwhile runs after it. */
  #kick(): void {
    if (this.#running || !this.#pending || !this.#leases.hasSynced) return;
    this.#pending = false;
    this.#running = this.#pass()
      .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'sharding pass failed'))
      .finally(() => {
        this.#running = undefined;
        this.#kick();
      });
  }

  #observe(lease: MemberLease): void {
    const record = JSON.stringify([lease.spec?.holderIdentity, lease.spec?.renewTime, lease.spec?.leaseDurationSeconds]);
    if (this.#observed.get(lease.metadata.name)?.record !== record) this.#observed.set(lease.metadata.name, { record, at: this.#now() });
    this.#schedule();
  }

  /** The members whose Lease this process saw renewed within the lease duration, by its own clock. */
  #liveMembers(): Set<string> {
    const now = this.#now();
    const live = new Set<string>();
    for (const lease of this.#leases.list()) {
      const member = lease.metadata.labels?.[shardMemberLabel];
      const observation = this.#observed.get(lease.metadata.name);
      if (!member || !observation) continue;
      // Never by the member's timestamps: clocks differ, and a frozen member's last renewTime says nothing.
      const durationMs = Math.max(this.#options.leaseDurationMs, (lease.spec?.leaseDurationSeconds ?? 0) * 1000);
      if (lease.spec?.holderIdentity === member && observation.at + durationMs > now) live.add(member);
    }
    return live;
  }

  async #pass(): Promise<void> {
    const { metrics, logger, key } = this.#options;
    this.#dirty = false;
    const live = this.#liveMembers();
    if (!this.#ring?.sameMembers(live)) {
      this.#owners = new Map();
      const before = this.#ring?.members ?? [];
      this.#ring = new HashRing(live, this.#options.virtualNodes);
      metrics.shardRingChanges.inc();
      metrics.shardMembers.set(live.size);
      logger.info({ members: this.#ring.members, before }, 'shard ring changed');
    }
    const ring = this.#ring;
    if (ring.members.length === 0) return;
    const isLive = (member: string) => live.has(member);
    const movable = await this.#fenceDead(live);
    const ownerOf = (shardKey: string): string | undefined => {
      const known = this.#owners.get(shardKey);
      if (known !== undefined) return known;
      const owner = ring.owner(shardKey);
      if (owner !== undefined) this.#owners.set(shardKey, owner);
      return owner;
    };
    const work: (() => Promise<void>)[] = [];
    for (const object of this.#options.resources.list()) {
      if (object.metadata.deletionTimestamp) continue;
      const id = objectKey(object);
      const resourceVersion = object.metadata.resourceVersion ?? '';
      const acted = this.#acted.get(id);
      if (acted !== undefined) {
        // Patched at this version: the cache has not caught up yet.
        if (acted === resourceVersion) {
          this.#dirty = true;
          continue;
        }
        this.#acted.delete(id);
      }
      const labels = object.metadata.labels ?? {};
      const current = labels[shardMemberLabel];
      const draining = labels[shardDrainLabel] === 'true';
      const desired = ownerOf(shardKeyOf(key, object));
      if (desired === undefined) continue;
      let change: { labels: Record<string, string | null>; kind: 'assign' | 'drain' | 'undrain' } | undefined;
      if (current === desired) {
        if (draining) change = { labels: { [shardDrainLabel]: null }, kind: 'undrain' };
      } else if (current === undefined || current === '' || movable.has(current)) {
        change = { labels: { [shardMemberLabel]: desired, [shardDrainLabel]: null }, kind: 'assign' };
      } else if (isLive(current) && !draining) {
        change = { labels: { [shardDrainLabel]: 'true' }, kind: 'drain' };
      } else if (!isLive(current)) {
        // A dead member not fenced yet: look again at the next tick.
        this.#dirty = true;
      }
      if (!change) continue;
      const { labels: patch, kind } = change;
      work.push(async () => {
        this.#acted.set(id, resourceVersion);
        if (await this.#patch(object, resourceVersion, patch)) metrics.shardMoves.inc({ kind });
        // A 409 after a status write brings no label change, so no event: the next tick tries again.
        else this.#dirty = true;
      });
    }
    await runLimited(work, patchConcurrency, this.#abort.signal);
  }

  /**
  The members, named by some object but not live, whose objects may move now: those that released
  their Lease, and those this pass fenced or had fenced before. A member label naming no Lease at
  all (a member of an earlier run, or a deleted Lease) is fenced by creating its Lease, once a
  lease duration has passed since this sharder started, in which a live member would have renewed.
  */
  async #fenceDead(live: ReadonlySet<string>): Promise<Set<string>> {
    const leases = new Map<string, MemberLease>();
    for (const lease of this.#leases.list()) {
      const member = lease.metadata.labels?.[shardMemberLabel];
      if (member) leases.set(member, lease);
    }
    const named = new Set<string>();
    for (const object of this.#options.resources.list()) {
      const member = object.metadata.labels?.[shardMemberLabel];
      if (member && !live.has(member)) named.add(member);
    }
    const movable = new Set<string>();
    for (const member of named) {
      const lease = leases.get(member);
      const holder = lease?.spec?.holderIdentity ?? '';
      if (lease && holder !== member) movable.add(member);
      else if (lease || this.#now() - this.#startedAt >= this.#options.leaseDurationMs) {
        if (await this.#fence(member, lease)) movable.add(member);
      }
    }
    return movable;
  }

  /** Takes a dead member's Lease over (or creates it), conditional on the version judged expired. */
  async #fence(member: string, lease: MemberLease | undefined): Promise<boolean> {
    const { kube, namespace, ring, logger, leaseDurationMs } = this.#options;
    const name = lease?.metadata.name ?? memberLeaseName(ring, member);
    const now = microTime();
    // Before the write: its own watch event resets the observation.
    const observed = lease ? this.#observed.get(lease.metadata.name) : undefined;
    const unchangedForMs = observed ? Math.round(this.#now() - observed.at) : undefined;
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, labels: { [shardRingLabel]: ring, [shardMemberLabel]: member }, ...(lease ? { resourceVersion: lease.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: fencedHolder,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      if (lease) await kube.replace(paths.lease(namespace, name), body);
      else await kube.create(paths.leases(namespace), body);
    } catch (error) {
      // Renewed (or recreated) meanwhile: alive after all, or the cache was behind; the next pass sees.
      if (isConflict(error) || isNotFound(error)) return false;
      logger.warn({ err: error, member }, 'could not fence a dead shard member');
      return false;
    }
    logger.info({ member, unchangedForMs, lastRenewTime: lease?.spec?.renewTime }, 'fenced a shard member whose lease expired; moving its share');
    this.#options.metrics.shardMoves.inc({ kind: 'fence' });
    return true;
  }

  /** A merge patch of labels, only onto the version decided on: a 409 means a newer one, and a new pass. */
  async #patch(object: KubeObject, resourceVersion: string, labels: Record<string, string | null>): Promise<boolean> {
    const { namespace = '', name } = object.metadata;
    try {
      await this.#options.kube.patch(
        paths.custom(group, 'v1alpha1', 'thalassasecrets', namespace, name),
        { metadata: { resourceVersion, labels } },
        contentTypes.mergePatch,
        { fieldManager: sharderFieldManager },
      );
      return true;
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return false;
      this.#acted.delete(objectKey(object));
      this.#options.logger.warn({ err: error, resource: `${namespace}/${name}` }, 'could not write the shard assignment');
      return false;
    }
  }
}
