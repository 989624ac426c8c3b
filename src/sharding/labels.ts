/**
The labels and annotations of sharding (docs/scaling.md). The sharder writes the assignment on
each ThalassaSecret; a member's informers select on it, so each member caches, polls and
reconciles only its share, and the API server does the filtering.
*/
import { group } from '../api/v1alpha1/common.ts';

/** On member Leases: the ring they belong to (the leader election's lease name). */
export const shardRingLabel = `shard.${group}/ring`;
/** On ThalassaSecrets: the member that owns it now. */
export const shardMemberLabel = `shard.${group}/member`;
/** On ThalassaSecrets: the owner is asked to let go (the sharder moves it once the owner removed both labels). */
export const shardDrainLabel = `shard.${group}/drain`;
/** On Secrets, in sharded mode: the member whose write this is, on every write (for audits and the tests). */
export const writtenByAnnotation = `${group}/written-by`;

/** The field manager of the sharder's label patches: not the controllers', so their applies never take the labels away. */
export const sharderFieldManager = 'thalassa-secrets-operator-sharder';

export type ShardKey = 'uid' | 'namespace';

/** Label values: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends; a member's identity must be one. */
export const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])$/;

export function memberLeaseName(ring: string, identity: string): string {
  return `${ring}-member-${identity.toLowerCase()}`;
}

export function memberSelector(identity: string): string {
  return `${shardMemberLabel}=${identity}`;
}

/** What the ring hashes: a resource's UID (even spread), or its namespace (a namespace's poll groups stay on one member). */
export function shardKeyOf(key: ShardKey, object: { readonly metadata: { readonly uid?: string; readonly namespace?: string; readonly name: string } }): string {
  if (key === 'namespace') return object.metadata.namespace ?? '';
  return object.metadata.uid ?? `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
