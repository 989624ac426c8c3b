/**
The operator's moving parts wired together: informers, the two controllers, the version poller,
and what they share (store clients, version catalog, value cache). It has no process concerns:
main.ts adds configuration, leader election, health and metrics endpoints and signals. Tests
start it in-process.
*/
import { group } from './api/v1alpha1/common.ts';
import type { ClusterThalassaSecretStore, ThalassaSecretStore } from './api/v1alpha1/secret-store.ts';
import type { StoreRef, ThalassaSecret } from './api/v1alpha1/thalassa-secret.ts';
import { RolloutRestarter } from './controllers/rollout-restarter.ts';
import { ClusterThalassaSecretController } from './controllers/cluster-thalassa-secret-controller.ts';
import { labelLegacySecrets } from './controllers/managed-label-migration.ts';
import { managedSecretSelector, ownerAnnotation } from './controllers/secret-metadata.ts';
import { StoreController } from './controllers/store-controller.ts';
import { StoreResolver, type OperatorIdentity } from './controllers/store-resolver.ts';
import { ThalassaSecretController } from './controllers/thalassa-secret-controller.ts';
import { ThalassaSecretReconciler } from './controllers/thalassa-secret-reconciler.ts';
import { ValueCache } from './controllers/value-cache.ts';
import { VersionCatalog } from './controllers/version-catalog.ts';
import { VersionPoller } from './controllers/version-poller.ts';
import { EventRecorder } from './kube/event-recorder.ts';
import { Informer } from './kube/informer.ts';
import type { KubeClient } from './kube/kube-client.ts';
import type { KubeObject } from './kube/list-watch.ts';
import { ScopedInformer } from './kube/scoped-informer.ts';
import { TemplateSourceWatch, trimConfigMapForCache } from './controllers/template-sources.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import type { RetryOptions } from './thalassa/index.ts';
import { RateLimiter } from './runtime/rate-limiter.ts';
import { WorkQueue } from './runtime/workqueue.ts';
import { memberSelector, type ShardKey } from './sharding/labels.ts';
import { ShardMember } from './sharding/member.ts';
import { Sharder } from './sharding/sharder.ts';

export interface OperatorOptions {
  readonly kube: KubeClient;
  /** Watch every namespace, or only these. */
  readonly namespaces: 'all' | readonly string[];
  /** Reconciles at once. */
  readonly concurrency: number;
  readonly defaultStore: { readonly kind: StoreRef['kind']; readonly name: string };
  readonly operatorIdentity: OperatorIdentity;
  readonly thalassa: {
    readonly timeoutMs: number;
    readonly defaultRateLimit: { readonly requestsPerSecond: number; readonly burst: number };
    /** The client's retry settings (docs/thalassa-api.md); absent: its defaults. Not a flag: for tests. */
    readonly retry?: Partial<RetryOptions> | undefined;
  };
  readonly queue: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly overallPerSecond: number; readonly overallBurst: number };
  readonly valueCacheBytes: number;
  readonly valueCacheRetentionMs: number;
  readonly restartCoalesceMs: number;
  readonly storeRecheckMs: number;
  readonly defaultRefreshIntervalMs: number;
  /** How long a credential read from a Secret is reused (default 60 s). Not a flag: for tests. */
  readonly credentialTtlMs?: number | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Sharded mode (docs/scaling.md); absent: this replica does all the work. */
  readonly shard?: ShardOptions | undefined;
}

export interface ShardOptions {
  /** This member's identity: the value of the member label it selects on. */
  readonly member: string;
  /** The ring: the leader election's Lease name; member Leases are labelled with it. */
  readonly ring: string;
  /** Where the member Leases are. */
  readonly leaseNamespace: string;
  readonly leaseDurationMs: number;
  readonly key: ShardKey;
  /** For the leader's work (the sharder, stores' status, ClusterThalassaSecrets): fenced by the leader lease. */
  readonly leaderKube: KubeClient;
}

export const defaultOperatorSettings = {
  namespaces: 'all',
  concurrency: 8,
  defaultStore: { kind: 'ClusterThalassaSecretStore', name: 'default' },
  thalassa: { timeoutMs: 10_000, defaultRateLimit: { requestsPerSecond: 50, burst: 100 } },
  queue: { baseDelayMs: 1000, maxDelayMs: 300_000, overallPerSecond: 50, overallBurst: 500 },
  valueCacheBytes: 16 * 1024 * 1024,
  valueCacheRetentionMs: 120_000,
  restartCoalesceMs: 10_000,
  storeRecheckMs: 300_000,
  defaultRefreshIntervalMs: 300_000,
} as const satisfies Partial<OperatorOptions>;

export class Operator {
  readonly #informers: { stop(): Promise<void>; start(): void }[];
  readonly #resources: ScopedInformer<ThalassaSecret & KubeObject>;
  /** Sharded mode: every ThalassaSecret, for the leader's sharder and ClusterThalassaSecrets. */
  readonly #allResources: ScopedInformer<ThalassaSecret & KubeObject> | undefined;
  readonly #sharder: Sharder | undefined;
  readonly #shardMember: ShardMember | undefined;
  #leading = false;
  readonly #leaderKube: KubeClient;
  readonly #managedSecrets: ScopedInformer<KubeObject>;
  readonly #configMaps: ScopedInformer<KubeObject>;
  readonly #stores: ScopedInformer<ThalassaSecretStore & KubeObject>;
  readonly #clusterStores: Informer<ClusterThalassaSecretStore & KubeObject>;
  readonly #secretController: ThalassaSecretController;
  readonly #storeController: StoreController;
  readonly #clusterSecrets: ClusterThalassaSecretController;
  readonly #poller: VersionPoller;
  readonly #resolver: StoreResolver;
  readonly queue: WorkQueue;
  readonly #kube: KubeClient;
  readonly #namespaces: OperatorOptions['namespaces'];
  readonly #logger: Logger;
  #started = false;
  #stopping = false;

  constructor(options: OperatorOptions) {
    const { kube, logger, metrics, namespaces, shard } = options;
    this.#kube = kube;
    this.#namespaces = namespaces;
    this.#logger = logger;
    const onRestart = (resource: string) => (reason: string) => metrics.watchRestarts.inc({ resource, reason });
    const crdPath = `/apis/${group}/v1alpha1`;
    this.#resources = new ScopedInformer({
      name: 'thalassasecrets',
      client: kube,
      apiPath: crdPath,
      plural: 'thalassasecrets',
      namespaces,
      // Sharded: only this member's share, filtered by the API server.
      labelSelector: shard ? memberSelector(shard.member) : undefined,
      logger,
      onRestart: onRestart('thalassasecrets'),
    });
    this.#allResources = shard
      ? new ScopedInformer({ name: 'thalassasecrets-all', client: kube, apiPath: crdPath, plural: 'thalassasecrets', namespaces, logger, onRestart: onRestart('thalassasecrets') })
      : undefined;
    this.#stores = new ScopedInformer({ name: 'thalassasecretstores', client: kube, apiPath: crdPath, plural: 'thalassasecretstores', namespaces, logger, onRestart: onRestart('thalassasecretstores') });
    this.#clusterStores = new Informer({ name: 'clusterthalassasecretstores', client: kube, path: `${crdPath}/clusterthalassasecretstores`, logger, onRestart: onRestart('clusterthalassasecretstores') });
    // Only the Secrets this operator manages, and only their metadata: never a cache of all Secrets.
    this.#managedSecrets = new ScopedInformer({
      name: 'secrets',
      client: kube,
      apiPath: '/api/v1',
      plural: 'secrets',
      namespaces,
      labelSelector: managedSecretSelector,
      metadataOnly: true,
      logger,
      onRestart: onRestart('secrets'),
      // Their cached metadata is read for labels, annotations and owners only.
      projection: { dropGeneration: true },
    });
    // templateFrom: ConfigMaps by metadata only (the reconciler reads the few it needs), see docs/design.md.
    this.#configMaps = new ScopedInformer({
      name: 'configmaps',
      client: kube,
      apiPath: '/api/v1',
      plural: 'configmaps',
      namespaces,
      metadataOnly: true,
      logger,
      onRestart: onRestart('configmaps'),
      trim: trimConfigMapForCache,
    });
    this.#informers = [this.#resources, this.#stores, this.#clusterStores, this.#managedSecrets, this.#configMaps, ...(this.#allResources ? [this.#allResources] : [])];
    const leaderKube = shard?.leaderKube ?? kube;
    this.#leaderKube = leaderKube;

    const catalog = new VersionCatalog();
    const values = new ValueCache(options.valueCacheBytes, { retentionMs: options.valueCacheRetentionMs });
    const events = new EventRecorder(kube, 'thalassa-secrets-operator', logger);
    this.#resolver = new StoreResolver({
      kube,
      stores: this.#stores,
      clusterStores: this.#clusterStores,
      defaultStore: options.defaultStore,
      operatorIdentity: options.operatorIdentity,
      clientDefaults: {
        timeoutMs: options.thalassa.timeoutMs,
        ...(options.thalassa.retry ? { retry: options.thalassa.retry } : {}),
        logger: logger.child({ component: 'thalassa-client' }),
        onResponse: (operation, status, durationMs) => metrics.recordThalassaRequest(operation, status, durationMs),
      },
      defaultRateLimit: options.thalassa.defaultRateLimit,
      onStoreReplaced: (key) => catalog.forgetStore(key),
      ...(options.credentialTtlMs === undefined ? {} : { credentialTtlMs: options.credentialTtlMs }),
      logger,
    });
    const reconciler = new ThalassaSecretReconciler({
      kube,
      stores: this.#resolver,
      catalog,
      values,
      events,
      restarter: new RolloutRestarter(kube, events, metrics, logger),
      secretMetadata: (namespace, name) => this.#managedSecrets.get(`${namespace}/${name}`),
      secretMetadataSynced: () => this.#managedSecrets.hasSynced,
      // A scan of the cache: asked only for immutable targets with a Secret per content, as they roll over.
      secretsOf: (namespace, owner) =>
        this.#managedSecrets.list().filter((secret) => secret.metadata.namespace === namespace && secret.metadata.annotations?.[ownerAnnotation] === owner),
      restartCoalesceMs: options.restartCoalesceMs,
      writer: shard?.member,
      metrics,
      logger,
    });
    this.queue = new WorkQueue({
      rateLimiter: new RateLimiter(options.queue),
      observer: {
        added: (priority) => metrics.workqueueAdds.inc({ name: 'thalassasecret', priority }),
        retried: () => metrics.workqueueRetries.inc({ name: 'thalassasecret' }),
        waited: (ms, priority) => metrics.workqueueQueueDuration.observe({ name: 'thalassasecret', priority }, ms / 1000),
        worked: (ms) => metrics.workqueueWorkDuration.observe({ name: 'thalassasecret' }, ms / 1000),
      },
    });
    metrics.trackQueue('thalassasecret', this.queue);
    this.#poller = new VersionPoller({
      resources: this.#resources,
      resolver: this.#resolver,
      catalog,
      queue: this.queue,
      defaultStore: options.defaultStore,
      defaultIntervalMs: options.defaultRefreshIntervalMs,
      metrics,
      logger,
    });
    this.#shardMember = shard ? new ShardMember({ kube, member: shard.member, metrics, logger }) : undefined;
    const member = this.#shardMember;
    this.#secretController = new ThalassaSecretController({
      resources: this.#resources,
      managedSecrets: this.#managedSecrets,
      stores: this.#stores,
      clusterStores: this.#clusterStores,
      queue: this.queue,
      reconciler,
      defaultStore: options.defaultStore,
      concurrency: options.concurrency,
      // A resource being drained is no longer polled: its next owner polls it.
      onResourceChanged: (resource, key) => this.#poller.track(key, resource && member?.draining(resource) ? undefined : resource),
      ...(member ? { shardMember: member } : {}),
      onForceSync: (key) => void this.#poller.pollNow(key),
      metrics,
      logger,
    });
    this.#storeController = new StoreController({
      stores: this.#stores,
      clusterStores: this.#clusterStores,
      resolver: this.#resolver,
      kube: leaderKube,
      queue: new WorkQueue({ rateLimiter: new RateLimiter(options.queue) }),
      recheckMs: options.storeRecheckMs,
      metrics,
      logger,
    });
    this.#clusterSecrets = new ClusterThalassaSecretController({
      kube: leaderKube,
      // Its children are found among all ThalassaSecrets, not only this member's share.
      resources: this.#allResources ?? this.#resources,
      namespaces,
      defaultStore: options.defaultStore,
      queue: options.queue,
      metrics,
      logger: logger.child({ component: 'cluster-thalassa-secrets' }),
      onRestart,
    });
    // The first list of ConfigMaps is no edit: every resource gets its first reconcile anyway.
    new TemplateSourceWatch(this.#resources, this.#configMaps, (key) => {
      if (this.#configMaps.hasSynced) this.queue.add(key, 'high');
    });
    this.#sharder =
      shard && this.#allResources
        ? new Sharder({
            kube: leaderKube,
            namespace: shard.leaseNamespace,
            ring: shard.ring,
            key: shard.key,
            leaseDurationMs: shard.leaseDurationMs,
            resources: this.#allResources,
            metrics,
            logger: logger.child({ component: 'sharder' }),
          })
        : undefined;
    if (member) this.#resources.addHandlers(member.handlers(() => this.#resources.size));
    this.#secretController.register();
    this.#storeController.register();
    this.#clusterSecrets.register();
  }

  /** Resolves when every informer has listed once: the caches are real. */
  get synced(): Promise<void> {
    // A shard member that does not lead never starts the leader's parts.
    const leaderParts = this.#sharder && !this.#leading ? [] : [this.#clusterSecrets.synced];
    return Promise.all([this.#resources.synced, this.#stores.synced, this.#clusterStores.synced, this.#managedSecrets.synced, ...leaderParts]).then(() => undefined);
  }

  get hasSynced(): boolean {
    const leaderParts = this.#sharder && !this.#leading ? true : this.#clusterSecrets.hasSynced;
    return this.#resources.hasSynced && this.#stores.hasSynced && this.#clusterStores.hasSynced && this.#managedSecrets.hasSynced && leaderParts;
  }

  /** The ThalassaSecrets in the cache, for the managed-resources gauge. */
  resources(): readonly ThalassaSecret[] {
    return this.#resources.list();
  }

  /**
  Starts everything; in sharded mode only a member's work (its share of ThalassaSecrets), and
  startLeading() adds the leader's.
  */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const sharded = this.#sharder !== undefined;
    // Before the Secret watch lists: Secrets of an earlier version then show in its cache. Sharded,
    // only the leader labels them (they are not any member's), and members read such a Secret at its first reconcile.
    const migrated = sharded
      ? Promise.resolve()
      : labelLegacySecrets(this.#kube, this.#namespaces, this.#logger).catch((error: unknown) => {
          this.#logger.warn({ err: error }, 'could not label the Secrets of an earlier version; each is read again at its first reconcile');
        });
    // Stores and Secrets first, so that the first reconciles find them in the caches.
    for (const informer of [this.#stores, this.#clusterStores, this.#configMaps]) informer.start();
    if (!sharded) this.#clusterSecrets.startInformers();
    void migrated.then(() => {
      if (!this.#stopping) this.#managedSecrets.start();
    });
    void Promise.all([this.#stores.synced, this.#clusterStores.synced, this.#managedSecrets.synced]).then(() => {
      this.#resources.start();
      this.#secretController.start();
      if (!sharded) this.#storeController.start();
      void this.#resources.synced.then(() => {
        this.#poller.start();
        if (!this.#stopping && !sharded) this.#clusterSecrets.start();
      });
    });
  }

  /** Sharded mode, once this replica leads: the sharder, stores' status and ClusterThalassaSecrets. */
  startLeading(): void {
    const sharder = this.#sharder;
    const all = this.#allResources;
    if (!sharder || !all || this.#leading || this.#stopping) return;
    this.#leading = true;
    void labelLegacySecrets(this.#leaderKube, this.#namespaces, this.#logger).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'could not label the Secrets of an earlier version; each is read again at its first reconcile');
    });
    all.start();
    sharder.start();
    this.#clusterSecrets.startInformers();
    void Promise.all([this.#stores.synced, this.#clusterStores.synced]).then(() => {
      if (!this.#stopping) this.#storeController.start();
    });
    void all.synced.then(() => {
      if (!this.#stopping) this.#clusterSecrets.start();
    });
  }

  /** Stops taking work, gives in-flight reconciles `graceMs` to end, then stops watching. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    await this.#sharder?.stop();
    await this.#poller.stop();
    await Promise.all([this.#secretController.stop(graceMs), this.#storeController.stop(graceMs), this.#clusterSecrets.stop(graceMs)]);
    await Promise.all([...this.#informers.map(async (informer) => await informer.stop()), this.#clusterSecrets.stopInformers()]);
    await this.#resolver.close();
  }
}
