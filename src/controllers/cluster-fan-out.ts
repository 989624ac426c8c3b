/**
The decisions of the ClusterThalassaSecret controller, without I/O: which namespaces a
ClusterThalassaSecret selects, what each namespace's ThalassaSecret (its child) must be, whether an
existing one is its own, and the bounded status that sums them up.
*/
import { isDeepStrictEqual } from 'node:util';
import {
  childSpec,
  clusterThalassaSecretLabel,
  maxReportedFailures,
  type ClusterThalassaSecret,
  type ClusterThalassaSecretStatus,
  type NamespaceFailure,
} from '../api/v1alpha1/cluster-thalassa-secret.ts';
import { apiVersion } from '../api/v1alpha1/common.ts';
import type { StoreRef, ThalassaSecret, ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { matchesSelector } from './label-selector.ts';
import { forceSyncAnnotation } from './thalassa-secret-controller.ts';
import { nextCondition, type ReadyState } from './status.ts';

/** Ready reasons of a ClusterThalassaSecret, and the reasons of `status.failures` beyond a ThalassaSecret's own; all in docs/troubleshooting.md. */
export const clusterReasons = {
  Provisioned: 'Provisioned',
  NoMatchingNamespaces: 'NoMatchingNamespaces',
  Provisioning: 'Provisioning',
  NamespacesFailing: 'NamespacesFailing',
  NamespacedDefaultStore: 'NamespacedDefaultStore',
  // Per namespace, in status.failures
  ThalassaSecretExists: 'ThalassaSecretExists',
  NamespaceNotWatched: 'NamespaceNotWatched',
} as const;

/** Whether `namespace` (a Namespace's metadata) is selected: listed by name, or matched by any selector. */
export function selects(parent: ClusterThalassaSecret, namespace: KubeObject): boolean {
  const name = namespace.metadata.name;
  if (parent.spec.namespaces?.includes(name)) return true;
  const labels = namespace.metadata.labels ?? {};
  return (parent.spec.namespaceSelectors ?? []).some((selector) => matchesSelector(selector, labels));
}

/** A namespace being deleted gets nothing new; its ThalassaSecrets go with it. */
export function isTerminating(namespace: KubeObject): boolean {
  return namespace.metadata.deletionTimestamp !== undefined;
}

/** Whether `child` is this ClusterThalassaSecret's: its controller ownerReference names this very object (by uid). */
export function isOwnChild(child: KubeObject, parent: ClusterThalassaSecret): boolean {
  return (child.metadata.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.kind === 'ClusterThalassaSecret' && ref.apiVersion === apiVersion && ref.uid === parent.metadata.uid,
  );
}

/**
The store every child reads through: the parent's storeRef, or the operator's default store when it
is a cluster store. Written into each child explicitly, so that a child never falls back to a
namespaced store of its namespace. Undefined: the default store is namespaced, and cannot be used.
*/
export function storeRefFor(parent: ClusterThalassaSecret, defaultStore: { readonly kind: StoreRef['kind']; readonly name: string }): StoreRef | undefined {
  if (parent.spec.storeRef) return parent.spec.storeRef;
  if (defaultStore.kind !== 'ClusterThalassaSecretStore') return undefined;
  return { kind: 'ClusterThalassaSecretStore', name: defaultStore.name };
}

export function desiredChildSpec(parent: ClusterThalassaSecret, store: StoreRef): ThalassaSecretSpec {
  return { ...childSpec(parent.spec), storeRef: store };
}

export interface ChildManifest {
  readonly apiVersion: string;
  readonly kind: 'ThalassaSecret';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly ownerReferences: readonly { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
  };
  readonly spec: ThalassaSecretSpec;
}

/** The apply configuration of the child in `namespace`: what the operator's field manager owns in it. */
export function desiredChild(parent: ClusterThalassaSecret, namespace: string, spec: ThalassaSecretSpec): ChildManifest {
  const forceSync = parent.metadata.annotations?.[forceSyncAnnotation];
  return {
    apiVersion,
    kind: 'ThalassaSecret',
    metadata: {
      name: parent.metadata.name,
      namespace,
      labels: { [clusterThalassaSecretLabel]: parent.metadata.name },
      ...(forceSync === undefined ? {} : { annotations: { [forceSyncAnnotation]: forceSync } }),
      ownerReferences: [{ apiVersion, kind: 'ClusterThalassaSecret', name: parent.metadata.name, uid: parent.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/**
Whether an own child already is what `spec` asks for: its spec exactly, the label, and the parent's
force-sync annotation, which is passed on so that forcing the parent checks every namespace. Without
one on the parent, the child's own (set by hand on one namespace) is left alone.
*/
export function childIsCurrent(child: ThalassaSecret & KubeObject, parent: ClusterThalassaSecret, spec: ThalassaSecretSpec): boolean {
  const forceSync = parent.metadata.annotations?.[forceSyncAnnotation];
  return (
    child.metadata.labels?.[clusterThalassaSecretLabel] === parent.metadata.name &&
    (forceSync === undefined || child.metadata.annotations?.[forceSyncAnnotation] === forceSync) &&
    sameJson(child.spec, spec)
  );
}

export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalise(a), normalise(b));
}

/**
A JSON merge patch (RFC 7386) from `current` to `desired`: objects are merged key by key (a key
only `current` has becomes null, which removes it), anything else is replaced whole. An apply
cannot remove a field another field manager added; this patch can.
*/
export function mergePatch(current: unknown, desired: unknown): unknown {
  if (!isPlainObject(current) || !isPlainObject(desired)) return normalise(desired);
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(current)) {
    if (!(key in desired) || desired[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(desired)) {
    if (value === undefined) continue;
    if (!(key in current)) patch[key] = normalise(value);
    else if (!sameJson(current[key], value)) patch[key] = mergePatch(current[key], value);
  }
  return patch;
}

/** Where one selected namespace stands. */
export type NamespaceState =
  | { readonly namespace: string; readonly state: 'provisioned' }
  | { readonly namespace: string; readonly state: 'pending' }
  | { readonly namespace: string; readonly state: 'failed'; readonly reason: string; readonly message: string };

/** The state of an own child from its status: Ready for its current generation, failing, or not there yet. */
export function childState(namespace: string, child: ThalassaSecret | undefined): NamespaceState {
  const ready = child?.status?.conditions?.find((c) => c.type === 'Ready');
  if (!child || !ready || child.status?.observedGeneration !== child.metadata.generation || ready.observedGeneration !== child.metadata.generation) {
    return { namespace, state: 'pending' };
  }
  if (ready.status === 'True') return { namespace, state: 'provisioned' };
  if (ready.status === 'False') return { namespace, state: 'failed', reason: ready.reason, message: ready.message };
  return { namespace, state: 'pending' };
}

const maxFailureMessage = 1024;

function shorten(message: string): string {
  return message.length > maxFailureMessage ? `${message.slice(0, maxFailureMessage - 3)}...` : message;
}

/**
The status for `states` (one per selected namespace), bounded whatever their number: two counts and
the first failures in namespace order. `blocked` is a failure of the whole resource (nothing is
fanned out), which decides Ready alone.
*/
export function summarise(
  parent: ClusterThalassaSecret,
  states: readonly NamespaceState[],
  now: Date,
  blocked?: { readonly reason: string; readonly message: string },
): ClusterThalassaSecretStatus {
  const failed = states.filter((s): s is Extract<NamespaceState, { state: 'failed' }> => s.state === 'failed').sort((a, b) => (a.namespace < b.namespace ? -1 : 1));
  const provisioned = states.filter((s) => s.state === 'provisioned').length;
  const pending = states.length - provisioned - failed.length;
  const secret = parent.spec.target?.name ?? parent.metadata.name;
  let ready: ReadyState;
  if (blocked) {
    ready = { status: 'False', ...blocked };
  } else if (failed.length > 0) {
    const first = failed[0];
    const example = first ? `; first: ${first.namespace} (${first.reason})` : '';
    ready = {
      status: 'False',
      reason: clusterReasons.NamespacesFailing,
      message: `${failed.length} of ${states.length} namespaces failing, ${provisioned} provisioned${pending > 0 ? `, ${pending} pending` : ''}${example}; see status.failures`,
    };
  } else if (pending > 0) {
    ready = { status: 'Unknown', reason: clusterReasons.Provisioning, message: `Secret ${secret} is in place in ${provisioned} of ${states.length} namespaces; the others are syncing` };
  } else if (states.length === 0) {
    ready = { status: 'True', reason: clusterReasons.NoMatchingNamespaces, message: 'no namespace matches spec.namespaces or spec.namespaceSelectors' };
  } else {
    ready = { status: 'True', reason: clusterReasons.Provisioned, message: `Secret ${secret} is in place in ${states.length === 1 ? 'the 1 matching namespace' : `all ${states.length} matching namespaces`}` };
  }
  const generation = parent.metadata.generation ?? 0;
  const failures: NamespaceFailure[] = failed.slice(0, maxReportedFailures).map((f) => ({ namespace: f.namespace, reason: f.reason, message: shorten(f.message) }));
  return {
    observedGeneration: generation,
    conditions: [nextCondition(parent.status?.conditions, 'Ready', ready, generation, now)],
    provisionedNamespaces: provisioned,
    failedNamespaces: failed.length,
    ...(failures.length > 0 ? { failures } : {}),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops undefined fields, which the API server never returns. */
function normalise(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}
