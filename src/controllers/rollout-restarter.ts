import { group } from '../api/v1alpha1/common.ts';
import type { RolloutRestartTarget, ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound, isTransient, toKubeApiError } from '../kube/errors.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { fieldManager, hashJson } from './secret-metadata.ts';

/**
The pod-template annotation that restarts a workload: one per ThalassaSecret (a workload may
follow several), whose value is a hash of the synced versions. The same content therefore never
restarts a workload twice, whatever replays: an operator restart, a leader change, a retry.
*/
export function restartAnnotation(resource: ThalassaSecret): string {
  return `${group}/restart-${hashJson(`${resource.metadata.namespace ?? ''}/${resource.metadata.name}`).slice(0, 12)}`;
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
  async restart(resource: ThalassaSecret, contentHash: string): Promise<RestartResult> {
    const namespace = resource.metadata.namespace ?? '';
    const annotation = restartAnnotation(resource);
    const restarted: string[] = [];
    const failed: string[] = [];
    for (const target of resource.spec.rolloutRestartTargets ?? []) {
      const name = `${target.kind}/${target.name}`;
      try {
        if (await this.#restartOne(target, namespace, annotation, contentHash)) {
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

  async #restartOne(target: RolloutRestartTarget, namespace: string, annotation: string, contentHash: string): Promise<boolean> {
    if (target.kind === 'Rollout') return await this.#restartArgoRollout(namespace, target.name, annotation, contentHash);
    const path = paths.workload(target.kind, namespace, target.name);
    const workload = await this.#client.get<{ spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }>(path);
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
    const rollout = await this.#client.get<{ metadata?: { annotations?: Record<string, string> } }>(path);
    if (rollout.metadata?.annotations?.[annotation] === contentHash) return false;
    const restartAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.#client.patch(path, { metadata: { annotations: { [annotation]: contentHash } }, spec: { restartAt } }, contentTypes.mergePatch, { fieldManager });
    return true;
  }
}

function argoRolloutPath(namespace: string, name: string): string {
  return `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts/${name}`;
}

function workloadApiVersion(kind: RolloutRestartTarget['kind']): string {
  return kind === 'Rollout' ? 'argoproj.io/v1alpha1' : 'apps/v1';
}
