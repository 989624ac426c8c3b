/**
A shard member's side of the handover: a ThalassaSecret the sharder marked for draining is let
go once its in-flight reconcile has ended (the work queue never runs a key twice at once, so the
release, queued like any reconcile, runs after it), by removing both shard labels in one patch
conditional on the version seen. From then on this member's informer no longer selects it, and
the sharder names the next owner.
*/
import { group } from '../api/v1alpha1/common.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { contentTypes, paths, type KubeClient } from '../kube/kube-client.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { shardDrainLabel, shardMemberLabel, sharderFieldManager } from './labels.ts';

export interface ShardMemberOptions {
  /** The member's client, fenced by its member lease. */
  readonly kube: KubeClient;
  readonly member: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class ShardMember {
  readonly #options: ShardMemberOptions;

  constructor(options: ShardMemberOptions) {
    this.#options = options;
  }

  get member(): string {
    return this.#options.member;
  }

  /** Asked to let go: nothing more is written for it; the next reconcile releases it. */
  draining(resource: { readonly metadata: { readonly labels?: Readonly<Record<string, string>> | undefined } }): boolean {
    return resource.metadata.labels?.[shardDrainLabel] === 'true';
  }

  /** Keeps the assigned-resources gauge and the handovers-in counter. */
  handlers(size: () => number): { onAdd(o: KubeObject): void; onDelete(o: KubeObject): void } {
    const { metrics } = this.#options;
    return {
      onAdd: () => {
        metrics.shardAssigned.set(size());
        metrics.shardHandovers.inc({ direction: 'in' });
      },
      onDelete: () => metrics.shardAssigned.set(size()),
    };
  }

  /**
  Removes this member's label and the drain label, only from the version seen: a 409 means the
  object changed (the sharder took the drain back, or it was edited), and its event brings it back.
  */
  async release(resource: KubeObject): Promise<void> {
    const { kube, member, metrics, logger } = this.#options;
    const { namespace = '', name, resourceVersion } = resource.metadata;
    if (resource.metadata.labels?.[shardMemberLabel] !== member) return;
    try {
      await kube.patch(
        paths.custom(group, 'v1alpha1', 'thalassasecrets', namespace, name),
        { metadata: { resourceVersion, labels: { [shardMemberLabel]: null, [shardDrainLabel]: null } } },
        contentTypes.mergePatch,
        { fieldManager: sharderFieldManager },
      );
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
    metrics.shardHandovers.inc({ direction: 'out' });
    logger.debug({ resource: `${namespace}/${name}` }, 'released to the sharder');
  }
}
