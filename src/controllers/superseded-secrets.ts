/**
The earlier Secrets of an immutable target that takes a new Secret per content (target.immutable
with rolloutRestartTargets). One is deleted only when nothing can start a pod with it any more.
*/
import type { RolloutRestartTarget } from '../api/v1alpha1/thalassa-secret.ts';
import { isNotFound } from '../kube/errors.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import { listAll, type KubeObject } from '../kube/list-watch.ts';
import { readFailure } from './kube-failure.ts';
import { restartTargetPath } from './rollout-restarter.ts';
import { secretReferences, type PodSpecLike } from './secret-references.ts';

interface PodObject extends KubeObject {
  readonly spec?: PodSpecLike;
}

interface TemplateObject extends KubeObject {
  readonly spec?: { readonly replicas?: number; readonly template?: { readonly spec?: PodSpecLike } };
}

/**
Which of `candidates` nothing in `namespace` needs: no Pod names it (a running pod whose container
restarts reads its Secret again), no ReplicaSet that still has replicas (a Deployment mid-rollout
scales its old ReplicaSet, and may scale it up again), and no listed workload's template (a
workload whose repointing failed, or that was set back by hand). Old ReplicaSets scaled to zero
do not count: they are revision history, and would keep every Secret forever.
*/
export async function unreferencedSecrets(
  kube: KubeClient,
  namespace: string,
  candidates: ReadonlySet<string>,
  targets: readonly RolloutRestartTarget[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const left = new Set(candidates);
  const strike = (spec: PodSpecLike | undefined) => {
    for (const ref of secretReferences(spec)) left.delete(ref.name);
  };
  const read = async <T extends KubeObject>(path: string, what: string) =>
    await listAll<T>(kube, path, { signal }).catch((error: unknown) => {
      throw readFailure(error, what);
    });
  for (const pod of (await read<PodObject>(`/api/v1/namespaces/${namespace}/pods`, 'the Pods of the namespace')).items) {
    strike(pod.spec);
  }
  if (left.size === 0) return left;
  for (const replicaSet of (await read<TemplateObject>(`/apis/apps/v1/namespaces/${namespace}/replicasets`, 'the ReplicaSets of the namespace')).items) {
    if ((replicaSet.spec?.replicas ?? 1) > 0) strike(replicaSet.spec?.template?.spec);
  }
  for (const target of targets) {
    if (left.size === 0) break;
    const workload = await kube.get<TemplateObject>(restartTargetPath(target, namespace), { signal }).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw readFailure(error, `${target.kind} ${target.name}`);
    });
    strike(workload?.spec?.template?.spec);
  }
  return left;
}
