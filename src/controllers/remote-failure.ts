import {
  BadRequestError,
  ForbiddenError,
  InvalidPathError,
  InvalidResponseError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  ThalassaApiError,
  UnauthorizedError,
  UnavailableError,
} from '../thalassa/index.ts';
import { reasons, SyncError, type FailureReason } from './sync-error.ts';

/**
Whether `error` says the secret (or its version) is gone from Thalassa: a 404 about the secret, not
about the store's region or project. Only this may mark a path missing, and so lead to a deletion
under deletionPolicy Delete.
*/
export function isSecretGone(error: unknown): error is NotFoundError {
  return error instanceof NotFoundError && error.kind === 'secret';
}

/**
What a failed Thalassa call means for the resource. The client's error messages already name the
operation, the path, the status and the server's message, and never a value.
*/
export function remoteFailure(error: unknown, store: string): SyncError {
  if (error instanceof SyncError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const at = `${message} (store ${store})`;
  const fail = (reason: FailureReason, retryAfterMs?: number) => new SyncError(reason, at, { retryAfterMs });
  if (error instanceof NotFoundError) {
    // A region or project that does not exist is the store's mistake (a typo, or a project that
    // was deleted), not a deleted secret.
    return error.kind === 'secret' ? fail(reasons.RemoteSecretNotFound) : fail(reasons.InvalidStore);
  }
  if (error instanceof ForbiddenError) {
    switch (error.kind) {
      case 'featureDisabled':
        return fail(reasons.FeatureDisabled);
      case 'policyDenied':
        return fail(reasons.AccessPolicyDenied);
      case 'permissionDenied':
        return fail(reasons.PermissionDenied);
    }
  }
  if (error instanceof BadRequestError) {
    switch (error.kind) {
      case 'versionDestroyed':
        return fail(reasons.VersionDestroyed);
      case 'kmsKeyDisabled':
        return fail(reasons.KMSKeyDisabled);
      case 'invalidPath':
      case 'invalidBase64':
      case 'sizeLimit':
      case 'validation':
        return fail(reasons.InvalidRequest);
    }
  }
  if (error instanceof UnauthorizedError) return fail(reasons.AuthenticationFailed);
  if (error instanceof RateLimitedError) return fail(reasons.RateLimited, error.retryAfterMs);
  if (error instanceof UnavailableError) return fail(reasons.ThalassaUnavailable, error.retryAfterMs);
  if (error instanceof NetworkError) return fail(reasons.ThalassaUnreachable);
  if (error instanceof InvalidResponseError) return fail(reasons.InvalidResponse);
  if (error instanceof InvalidPathError) return fail(reasons.InvalidRequest);
  if (error instanceof ThalassaApiError) return fail(reasons.InvalidRequest);
  throw error;
}
