import type { V1Secret } from '@kubernetes/client-node';
import { group } from '../api/v1alpha1/common.ts';
import { protectedSecretTypes, refreshPolicyOf, type RefreshPolicy, type ThalassaSecret, type ThalassaSecretStatus } from '../api/v1alpha1/thalassa-secret.ts';
import { isConflict, isNotFound, toKubeApiError } from '../kube/errors.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RevealedSecret } from '../thalassa/client.ts';
import { readFailure, transientKubeFailure } from './kube-failure.ts';
import { isSecretGone, remoteFailure } from './remote-failure.ts';
import type { Repoint, RolloutRestarter } from './rollout-restarter.ts';
import { buildSecretContent, type ResolvedValues } from './secret-data.ts';
import { unreferencedSecrets } from './superseded-secrets.ts';
import { readTemplateSources } from './template-sources.ts';
import {
  dataHashAnnotation,
  fieldManager,
  formatSyncedVersions,
  hashData,
  hashJson,
  managedByLabel,
  managedByValue,
  managedLabel,
  managedValue,
  createdForAnnotation,
  formatRolloutDue,
  parseRolloutDue,
  parseSyncedVersions,
  refreshedForAnnotation,
  rolloutDueAnnotation,
  shapeHashAnnotation,
  storeAnnotation,
  type RolloutDue,
  syncedVersionsAnnotation,
  type SyncedVersion,
} from './secret-metadata.ts';
import { allTargets, confirmExists, confirmGone, planSources, type PlanContext, type SourcePlan, type SourceTarget } from './source-plan.ts';
import { nextCondition, statusChanged, versionsSummary, type ReadyState } from './status.ts';
import { WrittenStatuses } from './written-statuses.ts';
import type { ResolvedStore, StoreResolver } from './store-resolver.ts';
import { reasons, SyncError } from './sync-error.ts';
import {
  dataOf,
  desiredSecret,
  generationName,
  keysTakenOver,
  managedKeys,
  managedKeysSolely,
  mergeRefusal,
  ownershipOf,
  type Ownership,
  targetSettings,
  type TargetSettings,
} from './target-secret.ts';
import { forceSyncAnnotation } from './thalassa-secret-controller.ts';
import { writtenByAnnotation } from '../sharding/labels.ts';
import type { ValueCache } from './value-cache.ts';
import type { VersionCatalog } from './version-catalog.ts';

export interface ReconcilerDependencies {
  readonly kube: KubeClient;
  readonly stores: StoreResolver;
  readonly catalog: VersionCatalog;
  readonly values: ValueCache;
  readonly events: EventRecorder;
  readonly restarter: RolloutRestarter;
  /** The metadata-only cache of managed Secrets. */
  readonly secretMetadata: (namespace: string, name: string) => KubeObject | undefined;
  /** The managed Secrets of a namespace that name `owner` (`<namespace>/<name>`) in their owner annotation. */
  readonly secretsOf: (namespace: string, owner: string) => readonly KubeObject[];
  /** Whether that cache has listed: only then does its silence suggest a Secret does not exist. */
  readonly secretMetadataSynced: () => boolean;
  /** How long after a rotation the workloads are restarted; rotations meanwhile join the same restart. */
  readonly restartCoalesceMs: number;
  /** Sharded mode: this member's identity, recorded on every Secret write (writtenByAnnotation). */
  readonly writer?: string | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** What the Secret is now: the full object, or only metadata when its data is known to be ours. */
interface TargetView {
  readonly secret: V1Secret | undefined;
  /** The Secret's data is exactly what this operator last wrote (same resourceVersion). */
  readonly dataTrusted: boolean;
  /**
  Not read: no managed Secret of that name is known, so it is probably new. It is created
  without a read first; if one exists after all (someone else's), the create fails and the
  reconcile reads it and starts over.
  */
  readonly assumedAbsent: boolean;
}

/** A Secret to write and what the operator knows of it. */
interface WriteTarget {
  readonly settings: TargetSettings;
  readonly view: TargetView;
  readonly ownership: Ownership | undefined;
  /** The Secret as this resource last wrote it: its own, or someone else's it merges keys into. */
  readonly ours: V1Secret | undefined;
}

/**
The rollout marker's time for the first generation under hashedNames: due at once, and only the
workloads that named a Secret of this resource (or its plain name) are restarted, by being repointed.
*/
const firstGenerationSince = 0;

/** How soon to look again whether an earlier generation is still needed (while pods roll over). */
const supersededRecheckMs = 15_000;

/** The create found an existing Secret where none was assumed. */
class SecretAppeared extends Error {
  override name = 'SecretAppeared';
}

interface SyncResult {
  readonly state: ReadyState;
  /** The Secret that holds the content now (under hashedNames, the current generation). */
  readonly secretName: string;
  readonly synced: readonly SyncedVersion[];
  readonly wroteAt: Date | undefined;
  /** Come back then: a restart is waiting for its coalescing window to close. */
  readonly requeueAfterMs?: number | undefined;
}

export interface ReconcileOutcome {
  readonly requeueAfterMs?: number | undefined;
}

const apiVersion = `${group}/v1alpha1`;

/**
Brings one ThalassaSecret's Secret in line with Thalassa: resolves the store, decides the versions,
reveals only values it does not already have, writes the Secret only when it differs, and writes
status only when it changed. Failures become the Ready condition's reason and a retry; they never
delete or blank a Secret (the only deletion is deletionPolicy Delete, on a 404 that a second,
independent request confirms). A throttled or failing Kubernetes API server is no failure of the
resource: such an attempt writes nothing (no status, no Event) and comes back after the server's delay.
*/
export class ThalassaSecretReconciler {
  readonly #deps: ReconcilerDependencies;
  /** resourceVersion of each Secret as this operator last wrote or verified it, to skip reading it again. */
  readonly #verified = new Map<string, string>();
  readonly #writtenStatuses = new WrittenStatuses();
  readonly #now: () => Date;

  constructor(deps: ReconcilerDependencies) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Forgets what is known of a resource's Secret, e.g. when the resource is gone. */
  forget(namespace: string, secretName: string): void {
    this.#verified.delete(`${namespace}/${secretName}`);
  }

  async reconcile(resource: ThalassaSecret, signal?: AbortSignal): Promise<ReconcileOutcome> {
    const settings = targetSettings(resource);
    try {
      const result = await this.#sync(resource, settings, signal);
      await this.#writeStatus(resource, result.secretName, result.state, result.synced, result.wroteAt);
      return { requeueAfterMs: result.requeueAfterMs };
    } catch (error) {
      const failure = this.#asFailure(error);
      if (signal?.aborted) throw failure;
      // Nothing is known to be wrong with the resource, and a status patch and an Event would only
      // add to the load of a server that sheds requests: the queue comes back after its Retry-After.
      if (failure.transient) throw failure;
      if (failure.reason === reasons.AuthenticationFailed) this.#deps.stores.invalidateFor(resource);
      await this.#writeStatus(resource, settings.name, { status: 'False', reason: failure.reason, message: failure.message }, undefined, undefined);
      this.#deps.events.record(resource, 'Warning', failure.reason, failure.message);
      throw failure;
    }
  }

  /**
  A failure as the reason to report. Reads wrap their own failures (ReadFailed, CredentialsForbidden...),
  so a Kubernetes error that arrives here unwrapped is a write's, unless it is transient.
  */
  #asFailure(error: unknown): SyncError {
    if (error instanceof SyncError) return error;
    const transient = transientKubeFailure(error, 'writing');
    if (transient) return transient;
    const kubeError = toKubeApiError(error);
    if (kubeError) return new SyncError(reasons.WriteFailed, `Kubernetes API: ${kubeError.message}`);
    if (error instanceof Error && error.name === 'AbortError') return new SyncError(reasons.WriteFailed, 'interrupted by shutdown');
    throw error;
  }

  async #sync(resource: ThalassaSecret, settings: TargetSettings, signal: AbortSignal | undefined, read = false): Promise<SyncResult> {
    if (settings.creationPolicy !== 'Merge' && protectedSecretTypes.includes(settings.type)) {
      // Admission refuses these types; a resource stored before that rule still must not get one.
      throw new SyncError(reasons.ProtectedSecret, `target.type ${settings.type} is managed by Kubernetes and cannot be a target; no Secret is written`);
    }
    const store = await this.#deps.stores.resolveFor(resource);
    const { view, ownership, ours } = await this.#target(settings, resource, read);
    if (!view.secret && settings.creationPolicy === 'Merge') {
      throw new SyncError(reasons.SecretMissing, `Secret ${settings.name} does not exist; creationPolicy Merge only writes into an existing Secret`);
    }
    const recorded = ours
      ? parseSyncedVersions(ours.metadata?.annotations?.[syncedVersionsAnnotation])
      : (resource.status?.syncedVersions ?? []);
    const policy = refreshPolicyOf(resource);
    if (ours && policy === 'CreatedOnce') {
      // Written once, never again: not for a new version, a spec change, a force-sync or an edit.
      return { state: syncedState(settings, recorded, policy), secretName: settings.name, synced: recorded, wroteAt: undefined };
    }
    const refreshedFor = policy === 'OnChange' ? refreshMark(resource) : undefined;
    const followHeld = refreshedFor !== undefined && heldSinceLastChange(resource, ours, refreshedFor);
    const context: PlanContext = { store, catalog: this.#deps.catalog, recorded: heldVersions(recorded), followHeld, askCurrent: policy === 'CreatedOnce', signal };

    let plan: SourcePlan;
    try {
      plan = await planSources(resource.spec, context);
    } catch (error) {
      return await this.#onRemoteGone(resource, settings, ours, error, signal);
    }
    // The templates of templateFrom are part of the shape: an edit of their ConfigMap rewrites the Secret.
    const templateSources = await readTemplateSources(this.#deps.kube, resource, signal);
    const shapeHash = hashJson({
      data: resource.spec.data?.map(({ version: _v, ...rest }) => rest),
      dataFrom: resource.spec.dataFrom,
      template: resource.spec.target?.template,
      templateSources: templateSources.fingerprint,
      // Absent unless set, so that the shapes of Secrets written before the field existed stay the same.
      immutable: settings.hashedNames ? 'per-content' : settings.immutable ? 'in-place' : undefined,
    });
    const targets = allTargets(plan);
    const pendingRollout = ours ? parseRolloutDue(ours.metadata?.annotations?.[rolloutDueAnnotation]) : undefined;
    if (
      ours &&
      (refreshedFor === undefined || ours.metadata?.annotations?.[refreshedForAnnotation] === refreshedFor) &&
      this.#isCurrent(ours, view.dataTrusted, settings, resource, targets, recorded, shapeHash)
    ) {
      const requeueAfterMs = pendingRollout
        ? await this.#restartWhenDue(resource, settings, pendingRollout)
        : settings.hashedNames
          ? await this.#removeSuperseded(resource, settings, signal)
          : undefined;
      return { state: syncedState(settings, recorded, policy), secretName: settings.name, synced: recorded, wroteAt: undefined, requeueAfterMs };
    }

    let resolved: { values: ResolvedValues; synced: SyncedVersion[] };
    try {
      resolved = await this.#resolveValues(plan, context);
    } catch (error) {
      return await this.#onRemoteGone(resource, settings, ours, error, signal);
    }
    const content = buildSecretContent(resource.spec, resolved.values, templateSources.sources);
    const data = content.data;
    const synced = distinctVersions(resolved.synced);
    const dataHash = hashData(data);
    const previousHash = ours?.metadata?.annotations?.[dataHashAnnotation];
    const versionsChanged = formatSyncedVersions(synced) !== formatSyncedVersions(recorded);
    // A rotation is new content in a Secret that already had content: never the first sync.
    const rotated = previousHash !== undefined && previousHash !== dataHash && versionsChanged;
    // Under hashedNames the content goes to the Secret named after it, which may be another one.
    const generation = settings.hashedNames ? generationName(settings.baseName, settings.type, dataHash) : settings.name;
    const into = generation === settings.name ? { settings, view, ownership, ours } : await this.#target({ ...settings, name: generation }, resource, read);
    const intoSettings = into.settings;
    // A new generation moves the workloads to it: after the coalescing window for a rotation, at once
    // for the first one (the workloads name a Secret that does not exist yet).
    const newGeneration = settings.hashedNames && !into.ours;
    // A generation written before (a retry, or content that came back) keeps its marker's time.
    const pending = (into.ours === ours ? undefined : parseRolloutDue(into.ours?.metadata?.annotations?.[rolloutDueAnnotation])) ?? pendingRollout;
    const rollout =
      (rotated || pending || newGeneration) && (resource.spec.rolloutRestartTargets?.length ?? 0) > 0
        ? { hash: hashJson(formatSyncedVersions(synced)), since: pending?.since ?? (rotated || !newGeneration ? this.#now().getTime() : firstGenerationSince) }
        : undefined;
    if (into.ours && settings.immutable && into.ours.metadata?.annotations?.[dataHashAnnotation] !== dataHash) {
      await this.#refuseImmutableChange(into, recorded, synced);
    }
    const desired = desiredSecret({
      resource,
      settings: intoSettings,
      data,
      syncedVersions: formatSyncedVersions(synced),
      dataHash,
      shapeHash,
      rolloutDue: rollout ? formatRolloutDue(rollout) : undefined,
      store: storeIdentity(store),
      refreshedFor,
      templatedLabels: content.labels,
      templatedAnnotations: content.annotations,
    });
    try {
      await this.#write(intoSettings, into.view, into.ownership?.kind === 'ours' ? into.ours : undefined, desired);
    } catch (error) {
      // Values are cached by now: the second pass reveals nothing.
      if (error instanceof SecretAppeared) return await this.#sync(resource, settings, signal, true);
      throw error;
    }
    // A repair is new data with the same versions and the same spec: someone else changed the Secret.
    const shapeChanged = ours?.metadata?.annotations?.[shapeHashAnnotation] !== shapeHash;
    const kind = !into.ours ? 'create' : previousHash === dataHash ? 'metadata' : versionsChanged || shapeChanged ? 'update' : 'repair';
    this.#deps.metrics.secretWrites.inc({ kind });
    this.#recordWriteEvent(resource, intoSettings, kind, synced);
    if (rotated) this.#recordRotation(store, synced, recorded);
    const requeueAfterMs = rollout ? await this.#restartWhenDue(resource, intoSettings, rollout) : undefined;
    return { state: syncedState(intoSettings, synced, policy), secretName: intoSettings.name, synced, wroteAt: this.#now(), requeueAfterMs };
  }

  /**
  The Secret to write and what it is: read (or known from the metadata cache), whose it is, and
  refused if this resource may not write it. Under hashedNames, a Secret at the plain target name
  that is not this resource's is none of its business: it is neither written nor moved away from.
  */
  async #target(settings: TargetSettings, resource: ThalassaSecret, read: boolean): Promise<WriteTarget> {
    const view = await this.#readTarget(settings, read);
    const ownership = view.secret ? ownershipOf(view.secret, resource) : undefined;
    if (settings.hashedNames && settings.name === settings.baseName && ownership?.kind !== 'ours') {
      return { settings, view: { secret: undefined, dataTrusted: false, assumedAbsent: false }, ownership: undefined, ours: undefined };
    }
    if (view.secret && ownership) assertMayWrite(view.secret, ownership, settings, resource);
    // The Secret as this resource last wrote it: its own, or someone else's it merges keys into.
    const ours = ownership?.kind === 'ours' || ownership?.kind === 'merged' ? view.secret : undefined;
    return { settings, view, ownership, ours };
  }

  /**
  An immutable Secret whose data would change: Kubernetes refuses that, so the resource says what
  would be written and how to let it. A Secret that is not immutable yet (the field was just set) is
  written, and frozen, by the apply.
  */
  async #refuseImmutableChange(into: WriteTarget, recorded: readonly SyncedVersion[], synced: readonly SyncedVersion[]): Promise<void> {
    const name = into.settings.name;
    const secret = into.view.dataTrusted ? await this.#readFull(into.settings) : into.ours;
    if (secret?.immutable !== true) return;
    const change =
      formatSyncedVersions(synced) === formatSyncedVersions(recorded)
        ? 'the spec now shapes its data differently'
        : `it holds ${versionsSummary(recorded)} and ${versionsSummary(synced)} is to be synced`;
    throw new SyncError(
      reasons.ImmutableSecretOutdated,
      `Secret ${name} is immutable and cannot take new data: ${change}. Delete Secret ${name} to have it written again with the new ` +
        'data, or list the workloads that use it in rolloutRestartTargets: each content then gets an immutable Secret of its own, ' +
        'and the workloads are moved to it as they restart',
    );
  }

  async #readFull(settings: TargetSettings): Promise<V1Secret | undefined> {
    return (await this.#readTarget(settings, true)).secret;
  }

  /**
  Under hashedNames, deletes the resource's earlier Secrets that nothing needs any more (see
  unreferencedSecrets); while one still is needed, says when to look again.
  */
  async #removeSuperseded(resource: ThalassaSecret, settings: TargetSettings, signal: AbortSignal | undefined): Promise<number | undefined> {
    const earlier = this.#earlierGenerations(resource, settings);
    if (earlier.length === 0) return undefined;
    const free = await unreferencedSecrets(this.#deps.kube, settings.namespace, new Set(earlier.map((s) => s.metadata.name)), resource.spec.rolloutRestartTargets ?? [], signal);
    for (const secret of earlier) {
      if (!free.has(secret.metadata.name)) continue;
      await this.#deps.kube
        .delete(paths.secret(settings.namespace, secret.metadata.name), { preconditions: { uid: secret.metadata.uid ?? '' } })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      this.forget(settings.namespace, secret.metadata.name);
      this.#deps.metrics.secretWrites.inc({ kind: 'delete' });
      this.#deps.events.record(resource, 'Normal', 'Deleted', `deleted Secret ${secret.metadata.name}: superseded by ${settings.name}, and no Pod or workload names it any more`);
    }
    const kept = earlier.filter((secret) => !free.has(secret.metadata.name)).map((secret) => secret.metadata.name);
    if (kept.length === 0) return undefined;
    this.#deps.logger.debug({ resource: `${settings.namespace}/${resource.metadata.name}`, kept }, 'earlier Secrets kept: a Pod, ReplicaSet or restart target still names them');
    return supersededRecheckMs;
  }

  /** This resource's Secrets other than the current one: created for it (by UID), known to the metadata cache. */
  #earlierGenerations(resource: ThalassaSecret, settings: TargetSettings): KubeObject[] {
    const owner = `${settings.namespace}/${resource.metadata.name}`;
    return this.#deps
      .secretsOf(settings.namespace, owner)
      .filter((secret) => secret.metadata.name !== settings.name && secret.metadata.annotations?.[createdForAnnotation] === resource.metadata.uid);
  }

  /**
  Restarts the workloads once the coalescing window of a rotation has passed, then removes the
  marker; before that, says when to come back.
  */
  async #restartWhenDue(resource: ThalassaSecret, settings: TargetSettings, due: RolloutDue): Promise<number | undefined> {
    const wait = due.since + this.#deps.restartCoalesceMs - this.#now().getTime();
    if (wait > 0) return wait;
    const repoint = settings.hashedNames ? await this.#repointFor(resource, settings, due) : undefined;
    const result = await this.#deps.restarter.restart(resource, due.hash, repoint);
    if (result.failed.length > 0) {
      // A missing or unpatchable workload is reported by event; the marker stays and is tried again.
      return 60_000;
    }
    const written = await this.#deps.kube.patch<V1Secret>(
      paths.secret(settings.namespace, settings.name),
      { metadata: { annotations: { [rolloutDueAnnotation]: null, ...this.#writtenBy() } } },
      contentTypes.mergePatch,
      { fieldManager },
    );
    if (written.metadata?.resourceVersion) this.#verified.set(`${settings.namespace}/${settings.name}`, written.metadata.resourceVersion);
    // The earlier Secret goes once the workloads have rolled over to the new one.
    return settings.hashedNames ? supersededRecheckMs : undefined;
  }

  /**
  Which references the workloads move to the current generation: those to the resource's earlier
  Secrets, and to the plain target name while no Secret of that name exists (a workload written for
  the Secret's logical name). A Secret of that name that someone else keeps is left to whoever uses it.
  */
  async #repointFor(resource: ThalassaSecret, settings: TargetSettings, due: RolloutDue): Promise<Repoint> {
    const from = new Set(this.#earlierGenerations(resource, settings).map((secret) => secret.metadata.name));
    if (!from.has(settings.baseName)) {
      const plain = await this.#deps.kube.get<V1Secret>(paths.secret(settings.namespace, settings.baseName)).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw readFailure(error, `Secret ${settings.baseName}`);
      });
      if (!plain) from.add(settings.baseName);
    }
    return { to: settings.name, from, restartUnreferenced: due.since !== firstGenerationSince };
  }

  /**
  The Secret holds what the spec asks for: the versions, the shape, its metadata, and its data
  unchanged since written (by resourceVersion, or by hash of the keys we own).
  */
  #isCurrent(
    secret: V1Secret,
    dataTrusted: boolean,
    settings: TargetSettings,
    resource: ThalassaSecret,
    targets: readonly SourceTarget[],
    recorded: readonly SyncedVersion[],
    shapeHash: string,
  ): boolean {
    if (targets.some((t) => t.version === undefined)) return false;
    const wanted = formatSyncedVersions(distinctVersions(targets.map((t) => ({ path: t.path, version: t.version ?? 0 }))));
    if (wanted !== formatSyncedVersions(recorded)) return false;
    const annotations = secret.metadata?.annotations ?? {};
    if (annotations[shapeHashAnnotation] !== shapeHash) return false;
    if (!metadataMatches(secret, settings, resource)) return false;
    if (dataTrusted) return true;
    const owned = managedKeys(secret).data;
    if (keysTakenOver(secret, owned).length > 0) return false;
    return hashData(dataOf(secret, owned)) === annotations[dataHashAnnotation];
  }

  async #resolveValues(plan: SourcePlan, context: PlanContext): Promise<{ values: ResolvedValues; synced: SyncedVersion[] }> {
    const inFlight = new Map<string, Promise<RevealedSecret>>();
    const reveal = async (target: SourceTarget): Promise<RevealedSecret> => {
      const key = `${target.path}\u0000${target.version ?? 'current'}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = this.#valueOf(target, context);
        inFlight.set(key, pending);
      }
      return await pending;
    };
    const data = await Promise.all(plan.data.map(reveal));
    const dataFrom = await Promise.all(plan.dataFrom.map(async (targets) => await Promise.all(targets.map(reveal))));
    const synced = [...data, ...dataFrom.flat()].map((secret) => ({ path: secret.path, version: secret.version }));
    return { values: { data, dataFrom }, synced };
  }

  /** A value from the cache, or revealed (and cached); a missing version is told from a missing secret. */
  async #valueOf(target: SourceTarget, context: PlanContext): Promise<RevealedSecret> {
    const { store, catalog, signal } = context;
    const values = this.#deps.values;
    if (target.version !== undefined) {
      const cached = values.get(store.key, target.path, target.version);
      if (cached) return cached;
    }
    try {
      // Shared with concurrent reveals of the same value (a ClusterThalassaSecret's namespaces syncing at once).
      const revealed = await values.reveal(store.key, target.path, target.version, async () => await store.client.reveal(target.path, { version: target.version, signal }));
      values.set(store.key, revealed);
      if (target.version === undefined) catalog.setCurrent(store.key, target.path, revealed.version);
      return revealed;
    } catch (error) {
      if (isSecretGone(error) && target.version !== undefined) {
        await confirmExists(target.path, context);
        throw new SyncError(reasons.VersionNotFound, `version ${target.version} of ${target.path} does not exist (store ${store.description})`);
      }
      if (isSecretGone(error)) catalog.setMissing(store.key, target.path);
      throw remoteFailure(error, store.description);
    }
  }

  /**
  A remote secret is gone (a 404). Retain keeps the Secret as it is; Delete deletes it when every
  secret it reads is gone (so one missing source never empties a Secret of many), through the store
  configuration that wrote it, and only after asking Thalassa once more: the 404 and the catalog
  may both come from one wrong answer (a proxy or a replica that answers 404 for a moment, a route
  that mishandles a path), and a deletion cannot be undone.
  */
  async #onRemoteGone(resource: ThalassaSecret, settings: TargetSettings, ours: V1Secret | undefined, error: unknown, signal: AbortSignal | undefined): Promise<never> {
    const failure = this.#asFailure(error);
    if (failure.reason !== reasons.RemoteSecretNotFound || settings.deletionPolicy !== 'Delete' || settings.creationPolicy !== 'Owner') throw failure;
    const store = await this.#deps.stores.resolveFor(resource);
    const sources = [...(resource.spec.data ?? []).map((d) => d.path), ...(resource.spec.dataFrom ?? []).flatMap((d) => (d.path ? [d.path] : []))];
    const prefixes = (resource.spec.dataFrom ?? []).flatMap((d) => (d.pathPrefix ? [d.pathPrefix] : []));
    const allGone =
      sources.every((path) => this.#deps.catalog.current(store.key, path) === 'missing') &&
      prefixes.every((prefix) => this.#deps.catalog.prefixMembers(store.key, prefix)?.paths.length === 0);
    if (!allGone) throw failure;
    if (ours && ours.metadata?.annotations?.[storeAnnotation] !== storeIdentity(store)) {
      throw new SyncError(
        reasons.RemoteSecretNotFound,
        `${failure.message}; Secret ${settings.name} is kept: it was written through another configuration of the store, ` +
          'and deletionPolicy Delete acts only on secrets seen gone through the store that wrote them',
      );
    }
    if (ours) {
      const context: PlanContext = { store, catalog: this.#deps.catalog, recorded: new Map(), signal };
      const stillThere = await confirmGone(sources, prefixes, context).catch((confirmError: unknown) => {
        if (!(confirmError instanceof SyncError)) throw confirmError;
        throw new SyncError(
          confirmError.reason,
          `${failure.message}; Secret ${settings.name} is kept: its deletion could not be confirmed (${confirmError.message})`,
          { retryAfterMs: confirmError.retryAfterMs },
        );
      });
      if (stillThere !== undefined) {
        throw new SyncError(
          reasons.DeletionNotConfirmed,
          `${failure.message}, but ${stillThere}; Secret ${settings.name} is kept: deletionPolicy Delete deletes only when a second, ` +
            'independent request confirms that the secret is gone',
        );
      }
      await this.#deps.kube
        .delete(paths.secret(settings.namespace, settings.name), { preconditions: { uid: ours.metadata?.uid ?? '' } })
        .catch((deleteError: unknown) => {
          if (!isNotFound(deleteError)) throw deleteError;
        });
      this.forget(settings.namespace, settings.name);
      this.#deps.metrics.secretWrites.inc({ kind: 'delete' });
      this.#deps.events.record(resource, 'Normal', 'Deleted', `deleted Secret ${settings.name}: the secrets it held are gone from Thalassa (deletionPolicy Delete)`);
    }
    throw new SyncError(reasons.RemoteSecretNotFound, `${failure.message}; Secret ${settings.name} was deleted (deletionPolicy Delete)`);
  }

  async #readTarget(settings: TargetSettings, read: boolean): Promise<TargetView> {
    const key = `${settings.namespace}/${settings.name}`;
    const metadata = this.#deps.secretMetadata(settings.namespace, settings.name);
    const verified = this.#verified.get(key);
    if (!read && metadata && verified !== undefined && metadata.metadata.resourceVersion === verified) {
      // A metadata-only view (no data, no type): enough, since the data is known to be what we wrote.
      return { secret: metadata as unknown as V1Secret, dataTrusted: true, assumedAbsent: false };
    }
    if (!read && !metadata && this.#deps.secretMetadataSynced() && settings.creationPolicy !== 'Merge') {
      return { secret: undefined, dataTrusted: false, assumedAbsent: true };
    }
    const secret = await this.#deps.kube.get<V1Secret>(paths.secret(settings.namespace, settings.name)).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw readFailure(error, `Secret ${settings.name}`);
    });
    return { secret, dataTrusted: false, assumedAbsent: false };
  }

  /**
  Creates, or applies over, the Secret. `created` is the Secret when the operator created it for
  this resource: only such a Secret is ever replaced (a type change), never one it merges into.
  */
  async #write(settings: TargetSettings, view: TargetView, createdView: V1Secret | undefined, unstamped: V1Secret): Promise<void> {
    const kube = this.#deps.kube;
    // Only what is sent carries the writer: comparisons with what is there use the spec's Secret.
    const desired = this.#stamped(unstamped);
    const path = paths.secret(settings.namespace, settings.name);
    // A metadata-only view has neither type nor immutable: after a change of shape (which target.immutable
    // is part of), the Secret is read in full to know whether it was frozen.
    const reshaped = createdView !== undefined && view.dataTrusted && createdView.metadata?.annotations?.[shapeHashAnnotation] !== desired.metadata?.annotations?.[shapeHashAnnotation];
    const created = reshaped ? await this.#readFull(settings) : createdView;
    const existing = reshaped ? created : view.secret;
    let written: V1Secret;
    // A metadata-only view has no type: trust it, it is what was written.
    const typeChanged = created?.type !== undefined && settings.creationPolicy !== 'Merge' && created.type !== desired.type;
    // An immutable Secret never becomes mutable again: without target.immutable it is written anew.
    const thawed = created?.immutable === true && desired.immutable !== true;
    if (!existing || typeChanged || thawed) {
      if (existing) {
        // Neither the type nor immutability of a Secret can change: replace it, as `kubectl replace --force` would.
        await kube.delete(path, { preconditions: { uid: existing.metadata?.uid ?? '' } });
      }
      written = await kube.create<V1Secret>(paths.secrets(settings.namespace), desired, { fieldManager }).catch((error: unknown) => {
        if (!isConflict(error)) throw error;
        if (view.assumedAbsent) throw new SecretAppeared();
        throw new SyncError(reasons.WriteFailed, `Secret ${settings.name} appeared while it was being created; retrying`, { retryAfterMs: 1000 });
      });
    } else {
      written = await this.#apply(settings, desired);
      written = await this.#removeDropped(settings, desired, written);
    }
    if (written.metadata?.resourceVersion) this.#verified.set(`${settings.namespace}/${settings.name}`, written.metadata.resourceVersion);
  }

  /**
  Applies `desired`. Into the operator's own Secret it takes over whatever someone changed (that is
  drift to repair). Into someone else's (Merge) it never forces: a key that Helm or another
  controller owns is reported, with its manager, and left as it is.
  */
  async #apply(settings: TargetSettings, desired: V1Secret): Promise<V1Secret> {
    const path = paths.secret(settings.namespace, settings.name);
    if (settings.creationPolicy !== 'Merge') return await this.#deps.kube.apply<V1Secret>(path, desired, fieldManager);
    return await this.#deps.kube.apply<V1Secret>(path, desired, fieldManager, { force: false }).catch((error: unknown) => {
      if (!isConflict(error)) throw error;
      throw new SyncError(
        reasons.FieldConflict,
        `Secret ${settings.name}: ${toKubeApiError(error)?.message ?? 'apply conflict'}. Under creationPolicy Merge the operator never takes over ` +
          'a field another manager owns: remove the key from that manager, or map the synced key to another name',
      );
    });
  }

  /**
  Keys this operator wrote earlier (by create or apply) that the spec no longer produces. Apply
  cannot remove what a create wrote, so they are removed explicitly, never a key of someone else:
  under Merge, a key another manager also owns stays. Read from the apply's answer, which lists
  what each field manager owns now.
  */
  async #removeDropped(settings: TargetSettings, desired: V1Secret, written: V1Secret): Promise<V1Secret> {
    const owned = settings.creationPolicy === 'Merge' ? managedKeysSolely(written) : managedKeys(written);
    const drop = <T>(keys: ReadonlySet<string>, wanted: Record<string, T> | undefined) =>
      Object.fromEntries([...keys].filter((k) => !(k in (wanted ?? {}))).map((k) => [k, null]));
    const data = drop(owned.data, desired.data);
    const labels = drop(owned.labels, desired.metadata?.labels);
    const annotations = drop(owned.annotations, desired.metadata?.annotations);
    if (Object.keys(data).length + Object.keys(labels).length + Object.keys(annotations).length === 0) return written;
    return await this.#deps.kube.patch<V1Secret>(
      paths.secret(settings.namespace, settings.name),
      { metadata: { resourceVersion: written.metadata?.resourceVersion, labels, annotations: { ...annotations, ...this.#writtenBy() } }, data },
      contentTypes.mergePatch,
      { fieldManager },
    );
  }

  /** Sharded mode: the member annotation, on every Secret write, so that each write names who made it. */
  #writtenBy(): Record<string, string> {
    return this.#deps.writer === undefined ? {} : { [writtenByAnnotation]: this.#deps.writer };
  }

  #stamped(secret: V1Secret): V1Secret {
    if (this.#deps.writer === undefined) return secret;
    const metadata = Object.assign({}, secret.metadata, { annotations: Object.assign({}, secret.metadata?.annotations, this.#writtenBy()) });
    return Object.assign({}, secret, { metadata });
  }

  #recordWriteEvent(resource: ThalassaSecret, settings: TargetSettings, kind: string, synced: readonly SyncedVersion[]): void {
    const versions = versionsSummary(synced);
    const messages: Record<string, [string, string]> = {
      create: ['Created', `created Secret ${settings.name} (versions ${versions})`],
      update: ['Updated', `updated Secret ${settings.name} to versions ${versions}`],
      repair: ['Repaired', `restored Secret ${settings.name}, which was changed outside the operator (versions ${versions})`],
      metadata: ['Updated', `updated the labels, annotations or owner of Secret ${settings.name}`],
    };
    const [reason, message] = messages[kind] ?? ['Updated', `wrote Secret ${settings.name}`];
    this.#deps.events.record(resource, 'Normal', reason, message);
  }

  #recordRotation(store: ResolvedStore, synced: readonly SyncedVersion[], recorded: readonly SyncedVersion[]): void {
    const heldPaths = new Set(recorded.map((v) => v.path));
    const held = new Set(recorded.map((v) => `${v.path}=${v.version}`));
    for (const version of synced) {
      // A secret newly added to the spec is not a rotation; a new version of one already held is.
      if (!heldPaths.has(version.path) || held.has(`${version.path}=${version.version}`)) continue;
      this.#deps.metrics.rotations.inc();
      const known = this.#deps.catalog.current(store.key, version.path);
      if (known !== undefined && known !== 'missing' && known.updatedAt !== undefined && known.version === version.version) {
        this.#deps.metrics.rotationLag.observe(Math.max(0, this.#now().getTime() - known.updatedAt) / 1000);
      }
    }
  }

  async #writeStatus(
    resource: ThalassaSecret,
    secretName: string,
    state: ReadyState,
    synced: readonly SyncedVersion[] | undefined,
    wroteAt: Date | undefined,
  ): Promise<void> {
    const key = `${resource.metadata.namespace ?? ''}/${resource.metadata.name}`;
    const cachedVersion = resource.metadata.resourceVersion;
    // The cache may not have seen this operator's last status write yet: then that write is what is there.
    const written = this.#writtenStatuses.since(key, cachedVersion);
    const current = written ? written.status : resource.status;
    const generation = resource.metadata.generation ?? 0;
    const now = this.#now();
    const syncedVersions = synced ? [...synced] : current?.syncedVersions;
    const next: ThalassaSecretStatus = {
      observedGeneration: generation,
      conditions: [nextCondition(current?.conditions, 'Ready', state, generation, now)],
      ...(syncedVersions && syncedVersions.length > 0 ? { syncedVersions, versionsSummary: versionsSummary(syncedVersions) } : {}),
      secretName,
      ...(wroteAt ? { lastSyncTime: wroteAt.toISOString().replace(/\.\d{3}Z$/, 'Z') } : current?.lastSyncTime ? { lastSyncTime: current.lastSyncTime } : {}),
    };
    if (!statusChanged(current, next)) return;
    const patched = await this.#deps.kube
      .patch<ThalassaSecret>(
        paths.customStatus(group, 'v1alpha1', 'thalassasecrets', resource.metadata.namespace ?? '', resource.metadata.name),
        // The whole status is ours; the resourceVersion keeps a stale view from overwriting a newer one.
        { metadata: { resourceVersion: written?.resourceVersion ?? cachedVersion }, status: next },
        contentTypes.mergePatch,
      )
      .catch((error: unknown) => {
        // Deleted meanwhile, or changed meanwhile (a newer event is queued): nothing to write now.
        if (isNotFound(error) || isConflict(error)) return undefined;
        throw error;
      });
    const madeVersion = patched?.metadata.resourceVersion;
    if (madeVersion && cachedVersion) this.#writtenStatuses.record(key, cachedVersion, madeVersion, next);
  }
}

/** The store as it was when a Secret was written: any edit of its spec makes a new identity. */
function storeIdentity(store: ResolvedStore): string {
  return `${store.description}@${store.store.metadata.uid ?? ''}:${store.store.metadata.generation ?? 0}`;
}

function syncedState(settings: TargetSettings, synced: readonly SyncedVersion[], policy: RefreshPolicy = 'Periodic'): ReadyState {
  const notes: Record<RefreshPolicy, string> = {
    Periodic: '',
    OnChange: ' (refreshPolicy OnChange: new versions are taken when the spec or the force-sync annotation changes)',
    CreatedOnce: ' (refreshPolicy CreatedOnce: it is never written again while it exists)',
  };
  return {
    status: 'True',
    reason: 'Synced',
    message: `Secret ${settings.name} holds ${synced.length === 1 ? 'version' : 'versions'} ${versionsSummary(synced)}${notes[policy]}`,
  };
}

/** What the versions of an OnChange Secret are taken for: the spec's generation and the force-sync annotation. */
function refreshMark(resource: ThalassaSecret): string {
  return `${resource.metadata.generation ?? 0}/${hashJson(resource.metadata.annotations?.[forceSyncAnnotation] ?? '')}`;
}

/**
Under OnChange, whether neither the spec nor the force-sync annotation changed since the versions
were last taken, so that the held versions are kept: told by the Secret, or for a deleted Secret by
the status (written for this generation, with versions).
*/
function heldSinceLastChange(resource: ThalassaSecret, ours: V1Secret | undefined, mark: string): boolean {
  if (ours) return ours.metadata?.annotations?.[refreshedForAnnotation] === mark;
  const status = resource.status;
  return status?.observedGeneration === (resource.metadata.generation ?? 0) && (status.syncedVersions?.length ?? 0) > 0;
}

/**
One entry per distinct path and version. Two keys may read one path at two versions (one pinned,
one following the latest): each version is recorded, so that neither hides the other.
*/
function distinctVersions(versions: readonly SyncedVersion[]): SyncedVersion[] {
  const seen = new Set<string>();
  return versions.filter((v) => {
    const key = `${v.path}\u0000${v.version}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/**
The version held of each path, for deciding what a followed path needs: the newest recorded one,
since a pinned key of the same path can only hold an older version than the latest.
*/
function heldVersions(recorded: readonly SyncedVersion[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const { path, version } of recorded) held.set(path, Math.max(version, held.get(path) ?? 0));
  return held;
}

/** Refuses to write a Secret this resource may not write under its creationPolicy; leaves the Secret as it is. */
function assertMayWrite(secret: V1Secret, ownership: Ownership, settings: TargetSettings, resource: ThalassaSecret): void {
  if (ownership.kind === 'other-thalassa-secret') {
    throw new SyncError(reasons.SecretOwnedByAnother, `Secret ${settings.name} is written by ThalassaSecret ${ownership.owner}`);
  }
  if (ownership.kind === 'ours') return;
  if (settings.creationPolicy === 'Merge') {
    const refusal = mergeRefusal(secret, resource);
    if (refusal) throw new SyncError(reasons.ProtectedSecret, `${refusal}; it is left as it is`);
    return;
  }
  if (ownership.kind === 'merged') {
    throw new SyncError(
      reasons.SecretExists,
      `Secret ${settings.name} was not created by the operator: this ThalassaSecret merges its keys into it. ` +
        `creationPolicy ${settings.creationPolicy} only writes a Secret the operator created, so it is left as it is. ` +
        'Set target.creationPolicy back to Merge, or delete the Secret to let the operator create its own',
    );
  }
  const by = ownership.controller ? ` (controlled by ${ownership.controller})` : '';
  throw new SyncError(
    reasons.SecretExists,
    `Secret ${settings.name} already exists and was not created by this ThalassaSecret${by}; it is left alone. ` +
      'Set target.creationPolicy: Merge to write the synced keys into it',
  );
}

function metadataMatches(secret: V1Secret, settings: TargetSettings, resource: ThalassaSecret): boolean {
  const labels = secret.metadata?.labels ?? {};
  const annotations = secret.metadata?.annotations ?? {};
  if (labels[managedLabel] !== managedValue) return false;
  if (settings.creationPolicy === 'Merge') return true;
  if (labels[managedByLabel] !== managedByValue) return false;
  // A Secret taken back from an earlier resource of the same name is marked for this one. One
  // written before the marker existed gets it with its next write, without a reveal now just for it.
  const createdFor = annotations[createdForAnnotation];
  if (createdFor !== undefined && createdFor !== resource.metadata.uid) return false;
  if ((secret.type ?? 'Opaque') !== settings.type && secret.type !== undefined) return false;
  if (Object.entries(settings.labels).some(([k, v]) => labels[k] !== v)) return false;
  if (Object.entries(settings.annotations).some(([k, v]) => annotations[k] !== v)) return false;
  const controller = secret.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'ThalassaSecret');
  const ownedByUs = controller?.uid === resource.metadata.uid && controller?.apiVersion === apiVersion;
  return settings.creationPolicy === 'Owner' ? ownedByUs : controller === undefined;
}
