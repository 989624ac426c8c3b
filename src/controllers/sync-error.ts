/**
Why a sync did not complete, as the Ready condition will say it. Every reason is documented in
docs/troubleshooting.md. Messages name resources, paths, keys and versions, never a value.
*/
export const reasons = {
  // Spec and cluster state
  StoreNotFound: 'StoreNotFound',
  StoreNotAllowed: 'StoreNotAllowed',
  InvalidStore: 'InvalidStore',
  CredentialsNotFound: 'CredentialsNotFound',
  SecretExists: 'SecretExists',
  SecretOwnedByAnother: 'SecretOwnedByAnother',
  SecretMissing: 'SecretMissing',
  ProtectedSecret: 'ProtectedSecret',
  FieldConflict: 'FieldConflict',
  InvalidSource: 'InvalidSource',
  KeyCollision: 'KeyCollision',
  DecodingFailed: 'DecodingFailed',
  TemplateFailed: 'TemplateFailed',
  SecretTooLarge: 'SecretTooLarge',
  WriteFailed: 'WriteFailed',
  // Thalassa answers
  RemoteSecretNotFound: 'RemoteSecretNotFound',
  VersionNotFound: 'VersionNotFound',
  VersionDestroyed: 'VersionDestroyed',
  KMSKeyDisabled: 'KMSKeyDisabled',
  FeatureDisabled: 'FeatureDisabled',
  PermissionDenied: 'PermissionDenied',
  AccessPolicyDenied: 'AccessPolicyDenied',
  AuthenticationFailed: 'AuthenticationFailed',
  RateLimited: 'RateLimited',
  ThalassaUnavailable: 'ThalassaUnavailable',
  ThalassaUnreachable: 'ThalassaUnreachable',
  InvalidResponse: 'InvalidResponse',
  InvalidRequest: 'InvalidRequest',
} as const;

export type FailureReason = (typeof reasons)[keyof typeof reasons];

export interface SyncErrorOptions extends ErrorOptions {
  /** Overrides the queue's backoff, e.g. with a server's Retry-After. */
  readonly retryAfterMs?: number | undefined;
}

export class SyncError extends Error {
  override name = 'SyncError';
  readonly reason: FailureReason;
  readonly retryAfterMs: number | undefined;

  constructor(reason: FailureReason, message: string, options?: SyncErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.retryAfterMs = options?.retryAfterMs;
  }
}
