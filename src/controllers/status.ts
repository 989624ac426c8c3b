import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../api/v1alpha1/common.ts';
import type { ThalassaSecretStatus } from '../api/v1alpha1/thalassa-secret.ts';
import type { SyncedVersion } from './secret-metadata.ts';

export interface ReadyState {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
A condition for `generation`, keeping the previous lastTransitionTime unless the status flipped,
as Kubernetes API conventions ask.
*/
export function nextCondition(previous: readonly Condition[] | undefined, type: string, state: ReadyState, generation: number, now: Date): Condition {
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status: state.status,
    reason: state.reason,
    message: state.message.slice(0, 32_000),
    lastTransitionTime: before?.status === state.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    observedGeneration: generation,
  };
}

export function versionsSummary(versions: readonly SyncedVersion[]): string {
  const summary = versions.map((v) => String(v.version)).join(',');
  return summary.length > 250 ? `${summary.slice(0, 247)}...` : summary;
}

/** Whether writing `next` would change anything: status is written only when it does. */
export function statusChanged(current: ThalassaSecretStatus | undefined, next: ThalassaSecretStatus): boolean {
  return !isDeepStrictEqual(normalise(current ?? {}), normalise(next));
}

/** Drops undefined fields, which the API server never returns, so that equal statuses compare equal. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}
