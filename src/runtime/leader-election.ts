import { setTimeout as sleep } from 'node:timers/promises';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { microTime, paths, type KubeClient } from '../kube/kube-client.ts';
import type { Logger } from '../observability/logger.ts';

export interface LeaderElectionOptions {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Labels of the Lease, kept on every write (a shard member's lease is found by them). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly logger: Logger;
  /** Called once this replica leads; `signal` aborts when it stops leading. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  /** Called when leadership is lost (not on release): the process must stop its work now. */
  readonly onStoppedLeading: () => void;
  readonly onNewLeader?: (identity: string) => void;
}

/** The parts of a coordination.k8s.io/v1 Lease the election reads; times are MicroTime strings. */
interface Lease {
  readonly metadata: { readonly resourceVersion?: string };
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

interface Observation {
  /** The lease record as last seen, to notice whether its holder still renews it. */
  readonly record: string;
  /** When we saw it change, by our clock: expiry is judged on local time, not the holder's. */
  readonly at: number;
}

/**
Leader election on a coordination.k8s.io Lease, as client-go does it: a candidate takes the lease
when its holder has not renewed it for leaseDuration (judged by the time this replica last saw the
record change, never by the holder's timestamps), the leader renews every retryPeriod and gives
up when it could not renew for renewDeadline, before anyone else can take over. Lease times are
MicroTime, which the API server requires.
*/
export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  #observed: Observation | undefined;
  #leading = false;
  /** Monotonic time (performance.now()) just before the last successful acquire or renew was sent. */
  #renewedAt = Number.NEGATIVE_INFINITY;
  #leader: string | undefined;
  #leadership: AbortController | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
  Whether this replica may write now: it leads, and renewed the lease less than renewDeadline ago
  by its own clock. Another replica takes over only leaseDuration after it last saw the lease
  renewed, so writes allowed by this check land before that, with leaseDuration - renewDeadline
  to spare for requests in flight. It matters when the process was frozen (a long GC pause, a
  stopped container, a suspended VM): on waking it has work in flight whose answers arrived
  meanwhile, and would write before its renew loop notices the lease is gone.
  */
  holdsLease(): boolean {
    return this.#leading && performance.now() - this.#renewedAt < this.#options.renewDeadlineMs;
  }

  /** The identity of the current leader, as last observed. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** Campaigns until `signal` aborts; while leading, renews. */
  async run(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, logger, identity } = this.#options;
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew().catch((error: unknown) => this.#failed(error))) {
        if (!this.#leading) {
          this.#leading = true;
          this.#leadership = new AbortController();
          logger.info({ identity, lease: this.#leaseName() }, 'became the leader');
          this.#options.onStartedLeading(this.#leadership.signal);
        }
        await this.#renewLoop(signal);
        if (isAborted(signal)) return;
        this.#leading = false;
        this.#leadership?.abort();
        logger.error({ identity, lease: this.#leaseName(), renewDeadlineMs }, 'lost the lease');
        this.#options.onStoppedLeading();
        return;
      }
      await sleep(jittered(retryPeriodMs), undefined, { signal }).catch(() => undefined);
    }
  }

  /** Gives the lease up at once, so another replica need not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    this.#leadership?.abort();
    const { namespace, name, identity, logger, kube } = this.#options;
    try {
      const lease = await kube.get<Lease>(paths.lease(namespace, name));
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTime();
      await kube.replace(paths.lease(namespace, name), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, resourceVersion: lease.metadata.resourceVersion, ...this.#labels() },
        spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 },
      });
      logger.info({ identity, lease: this.#leaseName() }, 'released the lease');
    } catch (error) {
      logger.warn({ err: error, lease: this.#leaseName() }, 'could not release the lease; it expires by itself');
    }
  }

  async #renewLoop(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(retryPeriodMs, undefined, { signal }).catch(() => undefined);
      if (isAborted(signal)) return;
      // Each attempt must end before the deadline: a hanging request must not keep us "leading".
      const renewed = await Promise.race([
        this.#tryAcquireOrRenew().catch((error: unknown) => this.#failed(error)),
        sleep(Math.max(0, lastRenew + renewDeadlineMs - Date.now()), false),
      ]);
      if (renewed) lastRenew = Date.now();
      else if (Date.now() - lastRenew >= renewDeadlineMs) return;
    }
  }

  #failed(error: unknown): false {
    this.#options.logger.warn({ err: error, lease: this.#leaseName() }, 'lease request failed');
    return false;
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs, kube } = this.#options;
    const now = Date.now();
    // Taken before anything is sent: on success, the lease was renewed no earlier than this.
    const sentAt = performance.now();
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    const path = paths.lease(namespace, name);
    let lease: Lease;
    try {
      lease = await kube.get<Lease>(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const stamp = microTime(new Date(now));
      await kube
        .create(paths.leases(namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace, ...this.#labels() },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 },
        })
        .catch((createError: unknown) => {
          if (isConflict(createError)) throw new Error('another replica created the lease first');
          throw createError;
        });
      this.#renewedAt = sentAt;
      this.#setLeader(identity);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.renewTime, spec.acquireTime, spec.leaseTransitions, spec.leaseDurationSeconds]);
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    this.#setLeader(holder);
    const observedFor = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.#observed.at + observedFor > now) return false;
    const stamp = microTime(new Date(now));
    const takingOver = holder !== identity;
    try {
      await kube.replace(path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        // The resourceVersion makes the write conditional: two candidates cannot both win.
        metadata: { name, namespace, resourceVersion: lease.metadata.resourceVersion, ...this.#labels() },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: stamp,
          acquireTime: takingOver || !spec.acquireTime ? stamp : spec.acquireTime,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
        },
      });
    } catch (error) {
      // The resourceVersion moved: someone else wrote the lease first.
      if (isConflict(error)) return false;
      throw error;
    }
    this.#renewedAt = sentAt;
    this.#setLeader(identity);
    return true;
  }

  #setLeader(identity: string): void {
    if (identity === this.#leader) return;
    this.#leader = identity;
    if (identity !== '') this.#options.onNewLeader?.(identity);
  }

  #labels(): { labels?: Record<string, string> } {
    return this.#options.labels ? { labels: { ...this.#options.labels } } : {};
  }

  #leaseName(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }
}

/** Read through a call: TypeScript narrows `signal.aborted` after a loop test and cannot see the await change it. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** client-go's wait.JitterUntil with factor 1.2. */
function jittered(ms: number): number {
  return ms + Math.random() * ms * 1.2;
}
