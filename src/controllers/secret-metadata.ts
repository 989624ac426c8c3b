/**
What the operator records on the Secrets it writes, so that it can recognise its own Secrets, tell
whether someone changed them, and know what is in them after a restart without asking Thalassa.
*/
import { createHash } from 'node:crypto';
import { group } from '../api/v1alpha1/common.ts';

export const fieldManager = 'thalassa-secrets-operator';

/**
On every Secret the operator writes, its own Secrets and those it merges keys into; the Secret
watch selects on it. A label of the operator's own group: no other tool claims it, so writing it
into someone else's Secret under Merge fights nobody over it.
*/
export const managedLabel = `${group}/managed`;
export const managedValue = 'true';
export const managedSecretSelector = `${managedLabel}=${managedValue}`;

/**
The well-known label, only on Secrets the operator created (Owner, Orphan): under Merge the
Secret belongs to whoever created it (often Helm, which sets this label itself).
*/
export const managedByLabel = 'app.kubernetes.io/managed-by';
export const managedByValue = 'thalassa-secrets-operator';

/** `<namespace>/<name>` of the ThalassaSecret that writes this Secret (also for Orphan and Merge, which have no ownerReference). */
export const ownerAnnotation = `${group}/owner`;
/**
The UID of the ThalassaSecret the operator created this Secret for, written once, at creation,
and never under Merge: the proof that a Secret is the operator's (see ownershipOf). The owner
annotation alone proves nothing, since Merge writes it into Secrets of others.
*/
export const createdForAnnotation = `${group}/created-for`;
/** The synced secrets and versions, see formatSyncedVersions. */
export const syncedVersionsAnnotation = `${group}/synced-versions`;
/**
The store, with its uid and generation, through which the Secret was last written. deletionPolicy
Delete acts only on a 404 seen through that same store: a store edited to a wrong region or
project also answers 404, and must not delete every Secret it serves.
*/
export const storeAnnotation = `${group}/store`;
/** sha256 of the data the operator wrote (its keys only): an edit shows as a mismatch. */
export const dataHashAnnotation = `${group}/data-hash`;
/** Hash of the spec parts that shape the data (keys, templates, decoding), to notice a changed shape without revealing. */
export const shapeHashAnnotation = `${group}/shape-hash`;

/**
Under refreshPolicy OnChange: `<generation>/<hash of the force-sync annotation>` of the ThalassaSecret
the Secret's versions were last taken for. While it matches, a reconcile keeps the versions the
Secret holds (an edit is repaired with them); a new generation or force-sync takes the current ones.
*/
export const refreshedForAnnotation = `${group}/refreshed-for`;

/**
`<content hash>@<epoch ms>` while workloads still have to be restarted for a rotation: written with
the new data, removed once every restart target carries the new hash. It survives an operator
restart, and its time starts the window in which further rotations join the same restart.
*/
export const rolloutDueAnnotation = `${group}/rollout-due`;

export interface RolloutDue {
  readonly hash: string;
  readonly since: number;
}

export function parseRolloutDue(value: string | undefined): RolloutDue | undefined {
  const match = value === undefined ? null : /^([0-9a-f]+)@(\d+)$/.exec(value);
  return match?.[1] && match[2] ? { hash: match[1], since: Number(match[2]) } : undefined;
}

export function formatRolloutDue(due: RolloutDue): string {
  return `${due.hash}@${due.since}`;
}

export interface SyncedVersion {
  readonly path: string;
  readonly version: number;
}

/** `path=version` pairs sorted by path and version, separated by commas: short, stable, readable in kubectl. */
export function formatSyncedVersions(versions: readonly SyncedVersion[]): string {
  return [...versions]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.version - b.version))
    .map((v) => `${v.path}=${v.version}`)
    .join(',');
}

export function parseSyncedVersions(value: string | undefined): SyncedVersion[] {
  if (!value) return [];
  const out: SyncedVersion[] = [];
  for (const pair of value.split(',')) {
    const at = pair.lastIndexOf('=');
    const version = Number(pair.slice(at + 1));
    if (at > 0 && Number.isInteger(version) && version > 0) out.push({ path: pair.slice(0, at), version });
  }
  return out;
}

/** A hash over keys and values in key order; Kubernetes returns data keys in any order. */
export function hashData(data: ReadonlyMap<string, Buffer>): string {
  const entries = [...data.entries()];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const [key, value] of entries) {
    hash.update(`${key.length}:${key}:${value.length}:`);
    hash.update(value);
  }
  return hash.digest('hex').slice(0, 32);
}

export function hashJson(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
