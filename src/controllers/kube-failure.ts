/**
What a failed Kubernetes request means for a sync. The reconciler reports genuine failures on the
resource (a 403 on a write, a 422), and only those: a request the API server shed (429), a server
error or no answer at all says nothing about the resource, and reporting it would only add writes
(a status patch, an Event) to an API server that is already struggling. Messages carry the API
server's Status message, never a response body.
*/
import { isThrottled, isTransient, retryAfterMsOf, toKubeApiError } from '../kube/errors.ts';
import { reasons, SyncError } from './sync-error.ts';

/** The Status message of a Kubernetes failure, or the error's own text. */
export function kubeMessage(error: unknown): string {
  return toKubeApiError(error)?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
A throttled (429) or transient (5xx, no answer) Kubernetes failure as a SyncError that is never
reported on the resource (`transient`), with the server's Retry-After for the work queue; undefined
for any other failure. `doing` says what was asked, for the log: `reading Secret ns/name`.
*/
export function transientKubeFailure(error: unknown, doing: string): SyncError | undefined {
  if (error instanceof SyncError) return error.transient ? error : undefined;
  if (!isTransient(error)) return undefined;
  const reason = isThrottled(error) ? reasons.KubernetesThrottled : reasons.KubernetesUnavailable;
  return new SyncError(reason, `Kubernetes API, ${doing}: ${kubeMessage(error)}`, { retryAfterMs: retryAfterMsOf(error), cause: error });
}

/**
A read that failed other than with 404 (which the caller decides about): transient, or ReadFailed
(403 and every other refusal). `what` names the object: `Secret db`, `Namespace team-a`.
*/
export function readFailure(error: unknown, what: string): SyncError {
  if (error instanceof SyncError) return error;
  return transientKubeFailure(error, `reading ${what}`) ?? new SyncError(reasons.ReadFailed, `Kubernetes API: cannot read ${what}: ${kubeMessage(error)}`, { cause: error });
}
