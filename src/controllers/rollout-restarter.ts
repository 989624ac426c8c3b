import { group } from '../api/v1alpha1/common.ts';
import type { RolloutRestartTarget, ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound, isTransient, toKubeApiError } from '../kube/errors.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { fieldManager, hashJson } from './secret-metadata.ts';
import { annotationOperation, repointOperations, type JsonPatchOperation, type PodSpecLike } from './secret-references.ts';

/**
The pod-template annotation that restarts a workload: one per ThalassaSecret (a workload may
follow several), whose value is a hash of the synced versions. The same content therefore never
restarts a workload twice, whatever replays: an operator restart, a leader change, a retry.
*/
export function restartAnnotation(resource: ThalassaSecret): string {
  return `${group}/restart-${hashJson(`${resource.metadata.namespace ?? ''}/${resource.metadata.name}`).slice(0, 12)}`;
}

/**
An immutable target's move to its next Secret: the workloads' references to an earlier Secret of the
same resource are pointed at the new one in the same patch that restarts them, so that their pods
change Secret and restart once.
*/
export interface Repoint {
  /** The Secret the workloads are to use from now on. */
  readonly to: string;
  /** The resource's earlier Secrets: every reference to one of them is moved to `to`. */
  readonly from: ReadonlySet<string>;
  /**
  Restart a workload that names none of them as well: true for a rotation (as without immutable),
  false when the first Secret is written (a workload that needed no repointing is not restarted).
  */
  readonly restartUnreferenced: boolean;
}

interface PodTemplateHolder {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly template?: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> }; readonly spec?: PodSpecLike };
  };
}

export interface RestartResult {
  readonly restarted: readonly string[];
  readonly failed: readonly string[];
}

export class RolloutRestarter {
  readonly #client: KubeClient;
  readonly #events: EventRecorder;
  readonly #metrics: Metrics;
  readonly #logger: Logger;

  constructor(client: KubeClient, events: EventRecorder, metrics: Metrics, logger: Logger) {
    this.#client = client;
    this.#events = events;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Sets the restart annotation to `contentHash` on every target that does not carry it yet. */
  async restart(resource: ThalassaSecret, contentHash: string, repoint?: Repoint): Promise<RestartResult> {
    const namespace = resource.metadata.namespace ?? '';
    const annotation = restartAnnotation(resource);
    const restarted: string[] = [];
    const failed: string[] = [];
    for (const target of resource.spec.rolloutRestartTargets ?? []) {
      const name = `${target.kind}/${target.name}`;
      try {
        if (await this.#restartOne(target, namespace, annotation, contentHash, repoint)) {
          restarted.push(name);
          this.#metrics.rolloutRestarts.inc({ kind: target.kind });
          this.#events.record(resource, 'Normal', 'RolloutRestartTriggered', `restarted ${name}: the synced content changed`);
          this.#events.record(
            { apiVersion: workloadApiVersion(target.kind), kind: target.kind, metadata: { name: target.name, namespace } },
            'Normal',
            'RolloutRestartTriggered',
            `restarted by ThalassaSecret ${resource.metadata.name}: the synced content changed`,
          );
        }
      } catch (error) {
        // A throttled or failing API server says nothing about the workload, and an Event would be
        // one more write to it: the reconcile comes back after the server's delay, the marker stays.
        if (isTransient(error)) throw error;
        failed.push(name);
        const message = isNotFound(error) ? `${name} does not exist` : `${name}: ${toKubeApiError(error)?.message ?? String(error)}`;
        this.#logger.warn({ resource: `${namespace}/${resource.metadata.name}`, target: name, err: error }, 'rollout restart failed');
        this.#events.record(resource, 'Warning', 'RolloutRestartFailed', `could not restart ${message}`);
      }
    }
    return { restarted, failed };
  }

  async #restartOne(target: RolloutRestartTarget, namespace: string, annotation: string, contentHash: string, repoint: Repoint | undefined): Promise<boolean> {
    if (repoint) return await this.#repointAndRestart(target, namespace, annotation, contentHash, repoint);
    if (target.kind === 'Rollout') return await this.#restartArgoRollout(namespace, target.name, annotation, contentHash);
    const path = paths.workload(target.kind, namespace, target.name);
    const workload = await this.#client.get<PodTemplateHolder>(path);
    if (workload.spec?.template?.metadata?.annotations?.[annotation] === contentHash) return false;
    await this.#client.patch(path, { spec: { template: { metadata: { annotations: { [annotation]: contentHash } } } } }, contentTypes.strategicMergePatch, { fieldManager });
    return true;
  }

  /**
  An Argo Rollout is restarted the way `kubectl argo rollouts restart` does it: `spec.restartAt`
  set to now makes its controller replace the pods created before then, within the same revision.
  A pod-template annotation would instead start a new revision through every canary or blue-green
  step. Which content was restarted for is kept in an annotation on the Rollout itself.
  */
  async #restartArgoRollout(namespace: string, name: string, annotation: string, contentHash: string): Promise<boolean> {
    const path = argoRolloutPath(namespace, name);
    const rollout = await this.#client.get<PodTemplateHolder>(path);
    if (rollout.metadata?.annotations?.[annotation] === contentHash) return false;
    await this.#client.patch(path, { metadata: { annotations: { [annotation]: contentHash } }, spec: { restartAt: restartAtNow() } }, contentTypes.mergePatch, { fieldManager });
    return true;
  }

  /**
  One JSON Patch per workload: its references moved to the new Secret (each checked against the name
  it replaces) and its restart marker. Only the fields changed, so a GitOps tool's ownership of the
  rest of the workload is untouched. A workload edited between the read and the patch fails the
  patch's tests; it is read again once.
  */
  async #repointAndRestart(target: RolloutRestartTarget, namespace: string, annotation: string, contentHash: string, repoint: Repoint): Promise<boolean> {
    const path = restartTargetPath(target, namespace);
    for (let attempt = 1; ; attempt++) {
      const workload = await this.#client.get<PodTemplateHolder>(path);
      const operations = repointOperations(workload.spec?.template?.spec, '/spec/template/spec', repoint.from, repoint.to);
      const restartOperations = this.#restartOperations(target, workload, annotation, contentHash, operations.length > 0 || repoint.restartUnreferenced);
      if (operations.length + restartOperations.length === 0) return false;
      try {
        await this.#client.patch(path, [...operations, ...restartOperations], contentTypes.jsonPatch, { fieldManager });
        return true;
      } catch (error) {
        // A failed test is refused as a conflict (409) or as invalid (422), by server version.
        const code = toKubeApiError(error)?.code;
        if (attempt >= 2 || (code !== 409 && code !== 422)) throw error;
      }
    }
  }

  /** The restart marker (and for an Argo Rollout its restartAt), unless it is there already or not wanted. */
  #restartOperations(target: RolloutRestartTarget, workload: PodTemplateHolder, annotation: string, contentHash: string, wanted: boolean): JsonPatchOperation[] {
    if (!wanted) return [];
    if (target.kind === 'Rollout') {
      if (workload.metadata?.annotations?.[annotation] === contentHash) return [];
      return [annotationOperation('/metadata', workload.metadata, annotation, contentHash), { op: 'add', path: '/spec/restartAt', value: restartAtNow() }];
    }
    const template = workload.spec?.template;
    if (template?.metadata?.annotations?.[annotation] === contentHash) return [];
    return [annotationOperation('/spec/template/metadata', template?.metadata, annotation, contentHash)];
  }
}

function restartAtNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function argoRolloutPath(namespace: string, name: string): string {
  return `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts/${name}`;
}

/** The API path of a restart target in `namespace`. */
export function restartTargetPath(target: RolloutRestartTarget, namespace: string): string {
  return target.kind === 'Rollout' ? argoRolloutPath(namespace, target.name) : paths.workload(target.kind, namespace, target.name);
}

function workloadApiVersion(kind: RolloutRestartTarget['kind']): string {
  return kind === 'Rollout' ? 'argoproj.io/v1alpha1' : 'apps/v1';
}
