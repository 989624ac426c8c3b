/**
Fans each ClusterThalassaSecret out into one ThalassaSecret (its child) per matching namespace, and
sums up how they are doing. Writing the Secrets is left to the ThalassaSecret machinery: the
children resolve the cluster store per namespace (its conditions apply there), share its poll
groups and its value cache, and follow the ownership rules of any ThalassaSecret.

Driven by watches only: the ClusterThalassaSecrets, the Namespaces (metadata only; a namespace that
starts or stops matching is acted on as soon as the watch says so), and the ThalassaSecrets the
operator already caches (a child edited or deleted by someone else is put back, a child's status
change updates the counts, at most once a second).
*/
import { clusterThalassaSecretLabel, type ClusterThalassaSecret } from '../api/v1alpha1/cluster-thalassa-secret.ts';
import { group } from '../api/v1alpha1/common.ts';
import type { ThalassaSecret, ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import { isConflict, isNotFound, toKubeApiError } from '../kube/errors.ts';
import { Informer } from '../kube/informer.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { ScopedInformer } from '../kube/scoped-informer.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Controller } from '../runtime/controller.ts';
import { RateLimiter, type RateLimiterOptions } from '../runtime/rate-limiter.ts';
import { WorkQueue } from '../runtime/workqueue.ts';
import {
  childIsCurrent,
  childState,
  clusterReasons,
  desiredChild,
  desiredChildSpec,
  isOwnChild,
  isTerminating,
  mergePatch,
  sameJson,
  selects,
  storeRefFor,
  summarise,
  type NamespaceState,
} from './cluster-fan-out.ts';
import { fieldManager } from './secret-metadata.ts';
import { forceSyncAnnotation } from './thalassa-secret-controller.ts';
import { statusChanged } from './status.ts';
import type { DefaultStore } from './store-ref.ts';
import { reasons } from './sync-error.ts';
import { runLimited } from '../runtime/run-limited.ts';

type Parent = ClusterThalassaSecret & KubeObject;
type Child = ThalassaSecret & KubeObject;

export interface ClusterThalassaSecretControllerOptions {
  readonly kube: KubeClient;
  /** The operator's ThalassaSecret cache: the children are found there. */
  readonly resources: ScopedInformer<Child>;
  /** The namespaces the operator watches: children are written only there. */
  readonly namespaces: 'all' | readonly string[];
  readonly defaultStore: DefaultStore;
  readonly queue: RateLimiterOptions;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly onRestart?: ((resource: string) => (reason: string) => void) | undefined;
  readonly now?: () => Date;
}

/** Child writes at once per reconcile: 500 namespaces are written in a few seconds without flooding the API server. */
const writeConcurrency = 16;
/** A child's status change updates the counts after this long, so that 500 children syncing make a few status writes, not 500. */
const statusCoalesceMs = 1000;

const crdPath = `/apis/${group}/v1alpha1`;
const childrenPath = (namespace: string) => `${crdPath}/namespaces/${namespace}/thalassasecrets`;
const childPath = (namespace: string, name: string) => `${childrenPath(namespace)}/${name}`;

export class ClusterThalassaSecretController {
  readonly #options: ClusterThalassaSecretControllerOptions;
  readonly parents: Informer<Parent>;
  /** One cluster-wide watch, or one per watched namespace (each selected by name, so RBAC may name them). */
  readonly #namespaceInformers: Informer<KubeObject>[];
  readonly queue: WorkQueue;
  readonly #controller: Controller;
  readonly #now: () => Date;

  constructor(options: ClusterThalassaSecretControllerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    const { kube, logger } = options;
    this.parents = new Informer<Parent>({
      name: 'clusterthalassasecrets',
      client: kube,
      path: `${crdPath}/clusterthalassasecrets`,
      logger,
      onRestart: options.onRestart?.('clusterthalassasecrets'),
    });
    const namespacePaths =
      options.namespaces === 'all'
        ? ['/api/v1/namespaces']
        : options.namespaces.map((name) => `/api/v1/namespaces?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`);
    this.#namespaceInformers = namespacePaths.map(
      (path) =>
        new Informer<KubeObject>({ name: 'namespaces', client: kube, path, metadataOnly: true, logger, onRestart: options.onRestart?.('namespaces') }),
    );
    this.queue = new WorkQueue({ rateLimiter: new RateLimiter(options.queue) });
    options.metrics.trackQueue('clusterthalassasecret', this.queue);
    this.#controller = new Controller({
      name: 'clusterthalassasecret',
      queue: this.queue,
      concurrency: 2,
      metrics: options.metrics,
      logger,
      reconcile: async (name) => await this.#reconcile(name),
    });
  }

  get synced(): Promise<void> {
    return Promise.all([this.parents.synced, ...this.#namespaceInformers.map(async (i) => await i.synced)]).then(() => undefined);
  }

  get hasSynced(): boolean {
    return this.parents.hasSynced && this.#namespaceInformers.every((i) => i.hasSynced);
  }

  /** Registers the event handlers; call before the informers start. */
  register(): void {
    const { resources } = this.#options;
    const queue = this.queue;
    this.parents.addHandlers({
      onAdd: (parent) => queue.add(parent.metadata.name, this.parents.hasSynced ? 'high' : 'low'),
      onUpdate: (previous, current) => {
        if (
          previous.metadata.generation !== current.metadata.generation ||
          previous.metadata.uid !== current.metadata.uid ||
          previous.metadata.annotations?.[forceSyncAnnotation] !== current.metadata.annotations?.[forceSyncAnnotation]
        ) {
          queue.add(current.metadata.name, 'high');
        }
      },
      onDelete: (parent) => queue.cancelDelayed(parent.metadata.name),
    });
    const namespaceChanged = (previous: KubeObject | undefined, current: KubeObject | undefined) => {
      for (const parent of this.parents.list()) {
        const before = previous !== undefined && !isTerminating(previous) && selects(parent, previous);
        const after = current !== undefined && !isTerminating(current) && selects(parent, current);
        if (before !== after) queue.add(parent.metadata.name, 'high');
      }
    };
    for (const informer of this.#namespaceInformers) {
      informer.addHandlers({
        onAdd: (namespace) => namespaceChanged(undefined, namespace),
        onUpdate: (previous, current) => namespaceChanged(previous, current),
        onDelete: (namespace) => namespaceChanged(namespace, undefined),
      });
    }
    // A child (or a same-named ThalassaSecret that is in the way) changed.
    const parentOf = (resource: Child) => {
      const name = resource.metadata.labels?.[clusterThalassaSecretLabel] ?? resource.metadata.name;
      return this.parents.get(name) ? name : undefined;
    };
    resources.addHandlers({
      onAdd: (resource) => {
        const parent = parentOf(resource);
        if (parent) queue.addAfter(parent, statusCoalesceMs);
      },
      onUpdate: (previous, current) => {
        const parent = parentOf(current);
        if (!parent) return;
        // Someone else's edit is put back at once; a status change only moves the counts.
        if (
          previous.metadata.generation !== current.metadata.generation ||
          !sameJson(previous.metadata.labels, current.metadata.labels) ||
          !sameJson(previous.metadata.ownerReferences, current.metadata.ownerReferences)
        ) {
          queue.add(parent, 'high');
        } else {
          queue.addAfter(parent, statusCoalesceMs);
        }
      },
      onDelete: (resource) => {
        const parent = parentOf(resource);
        if (parent) queue.add(parent, 'high');
      },
    });
  }

  startInformers(): void {
    this.parents.start();
    for (const informer of this.#namespaceInformers) informer.start();
  }

  /** Starts the workers; call once the ThalassaSecret cache has listed. */
  start(): void {
    this.#controller.start();
  }

  async stop(graceMs: number): Promise<void> {
    await this.#controller.stop(graceMs);
  }

  async stopInformers(): Promise<void> {
    await Promise.all([this.parents.stop(), ...this.#namespaceInformers.map(async (i) => await i.stop())]);
  }

  #namespaces(): KubeObject[] {
    return this.#namespaceInformers.flatMap((i) => i.list());
  }

  async #reconcile(name: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const parent = this.parents.get(name);
    if (!parent || parent.metadata.deletionTimestamp) return undefined;
    if (!this.hasSynced || !this.#options.resources.hasSynced) return { requeueAfterMs: 1000 };
    const { resources, namespaces: watched, defaultStore } = this.#options;
    const ownChildren = resources.list().filter((r) => r.metadata.labels?.[clusterThalassaSecretLabel] === name && isOwnChild(r, parent));

    const store = storeRefFor(parent, defaultStore);
    if (!store) {
      // Nothing is written or removed: the children there are keep syncing as they are.
      const states = ownChildren.map((child) => childState(child.metadata.namespace ?? '', child));
      return await this.#writeStatus(parent, states, {
        reason: clusterReasons.NamespacedDefaultStore,
        message:
          `spec.storeRef is absent and the operator's default store (--default-store) is ThalassaSecretStore/${defaultStore.name}, a namespaced store; ` +
          'a ClusterThalassaSecret reads only through a ClusterThalassaSecretStore: set spec.storeRef',
      });
    }

    const spec = desiredChildSpec(parent, store);
    const selected = this.#namespaces()
      .filter((ns) => !isTerminating(ns) && selects(parent, ns))
      .map((ns) => ns.metadata.name)
      .sort();
    const selectedSet = new Set(selected);
    const work: (() => Promise<NamespaceState | Removal>)[] = [];
    const states: NamespaceState[] = [];
    for (const namespace of selected) {
      const existing = resources.get(`${namespace}/${name}`);
      if (!existing) {
        work.push(async () => await this.#create(parent, namespace, spec));
      } else if (!isOwnChild(existing, parent)) {
        states.push({
          namespace,
          state: 'failed',
          reason: clusterReasons.ThalassaSecretExists,
          message: `ThalassaSecret ${namespace}/${name} exists and was not created for this ClusterThalassaSecret; it is left alone. Rename or delete it to let this namespace get its Secret`,
        });
      } else if (!childIsCurrent(existing, parent, spec)) {
        work.push(async () => await this.#update(parent, existing, spec));
      } else {
        states.push(childState(namespace, existing));
      }
    }
    if (watched !== 'all') {
      const watchedSet = new Set(watched);
      for (const namespace of parent.spec.namespaces ?? []) {
        if (watchedSet.has(namespace) || selectedSet.has(namespace)) continue;
        states.push({
          namespace,
          state: 'failed',
          reason: clusterReasons.NamespaceNotWatched,
          message: `namespace ${namespace} is listed, but the operator watches only ${watched.join(', ')} (--namespaces); it gets no Secret`,
        });
      }
    }
    const stale = ownChildren.filter((child) => !selectedSet.has(child.metadata.namespace ?? ''));
    for (const child of stale) work.push(async () => await this.#remove(child));

    const results = await runLimited(work, writeConcurrency);
    states.push(...results.filter((r): r is NamespaceState => r !== 'removed' && r !== 'not-removed'));
    const written = await this.#writeStatus(parent, states);
    const failedWrites =
      states.filter((s) => s.state === 'failed' && s.reason === reasons.WriteFailed).length + results.filter((r) => r === 'not-removed').length;
    // After the status: the queue's backoff retries them.
    if (failedWrites > 0) throw new Error(`${failedWrites} ThalassaSecrets of ClusterThalassaSecret ${name} could not be written or deleted`);
    return written;
  }

  /** A new child, by create: an existing ThalassaSecret of that name (someone else's) is never overwritten. */
  async #create(parent: Parent, namespace: string, spec: ThalassaSecretSpec): Promise<NamespaceState> {
    try {
      await this.#options.kube.create(childrenPath(namespace), desiredChild(parent, namespace, spec), { fieldManager });
      this.#options.logger.debug({ clusterThalassaSecret: parent.metadata.name, namespace }, 'created ThalassaSecret');
      return { namespace, state: 'pending' };
    } catch (error) {
      // 409: one appeared that the cache does not show yet; its watch event brings this back.
      if (isConflict(error)) return { namespace, state: 'pending' };
      return this.#writeFailure(namespace, parent, 'create', error);
    }
  }

  /**
  Puts an own child back to the spec: a forced apply by the operator's field manager, with the
  child's uid (so it can never land on another object of that name), then, if someone else added
  fields the apply does not own, a merge patch that removes them.
  */
  async #update(parent: Parent, child: Child, spec: ThalassaSecretSpec): Promise<NamespaceState> {
    const namespace = child.metadata.namespace ?? '';
    const path = childPath(namespace, parent.metadata.name);
    const kube = this.#options.kube;
    try {
      const desired = desiredChild(parent, namespace, spec);
      let written = await kube.apply<Child>(path, { ...desired, metadata: { ...desired.metadata, uid: child.metadata.uid } }, fieldManager);
      if (!sameJson(written.spec, spec)) {
        written = await kube.patch<Child>(
          path,
          { metadata: { uid: child.metadata.uid, resourceVersion: written.metadata.resourceVersion }, spec: mergePatch(written.spec, spec) },
          contentTypes.mergePatch,
          { fieldManager },
        );
      }
      this.#options.logger.debug({ clusterThalassaSecret: parent.metadata.name, namespace }, 'updated ThalassaSecret');
      return childState(namespace, written);
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return { namespace, state: 'pending' };
      return this.#writeFailure(namespace, parent, 'update', error);
    }
  }

  /** A child in a namespace that no longer matches. Its Secret goes only by its own ownerReference (creationPolicy Owner). */
  async #remove(child: Child): Promise<Removal> {
    const namespace = child.metadata.namespace ?? '';
    try {
      await this.#options.kube.delete(childPath(namespace, child.metadata.name), { preconditions: { uid: child.metadata.uid ?? '' } });
      this.#options.logger.debug({ clusterThalassaSecret: child.metadata.name, namespace }, 'deleted ThalassaSecret: the namespace no longer matches');
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) {
        this.#options.logger.warn({ clusterThalassaSecret: child.metadata.name, namespace, err: error }, 'could not delete the ThalassaSecret of a namespace that no longer matches');
        return 'not-removed';
      }
    }
    return 'removed';
  }

  #writeFailure(namespace: string, parent: Parent, what: string, error: unknown): NamespaceState {
    const kubeError = toKubeApiError(error);
    if (!kubeError && !(error instanceof Error)) throw error;
    this.#options.logger.debug({ clusterThalassaSecret: parent.metadata.name, namespace, err: error }, `could not ${what} ThalassaSecret`);
    return {
      namespace,
      state: 'failed',
      reason: reasons.WriteFailed,
      message: `could not ${what} ThalassaSecret ${namespace}/${parent.metadata.name}: ${kubeError?.message ?? (error as Error).message}`,
    };
  }

  async #writeStatus(parent: Parent, states: readonly NamespaceState[], blocked?: { reason: string; message: string }): Promise<{ requeueAfterMs?: number } | undefined> {
    const next = summarise(parent, states, this.#now(), blocked);
    if (!statusChanged(parent.status, next)) return undefined;
    try {
      await this.#options.kube.patch(
        paths.customStatus(group, 'v1alpha1', 'clusterthalassasecrets', undefined, parent.metadata.name),
        // The whole status is ours; null removes failures that are over. The resourceVersion keeps a stale view from overwriting a newer one.
        { metadata: { resourceVersion: parent.metadata.resourceVersion }, status: { ...next, failures: next.failures ?? null } },
        contentTypes.mergePatch,
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      // Our own previous status write, not yet in the cache: count again once it is.
      if (isConflict(error)) return { requeueAfterMs: statusCoalesceMs };
      throw error;
    }
    return undefined;
  }
}

/** Whether a child of a namespace that no longer matches is gone. */
type Removal = 'removed' | 'not-removed';

