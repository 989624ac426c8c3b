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
  CredentialsForbidden: 'CredentialsForbidden',
  SecretExists: 'SecretExists',
  SecretOwnedByAnother: 'SecretOwnedByAnother',
  SecretMissing: 'SecretMissing',
  ProtectedSecret: 'ProtectedSecret',
  FieldConflict: 'FieldConflict',
  InvalidSource: 'InvalidSource',
  KeyCollision: 'KeyCollision',
  DecodingFailed: 'DecodingFailed',
  TemplateFailed: 'TemplateFailed',
  TemplateSourceNotFound: 'TemplateSourceNotFound',
  SecretTooLarge: 'SecretTooLarge',
  ImmutableSecretOutdated: 'ImmutableSecretOutdated',
  WriteFailed: 'WriteFailed',
  ReadFailed: 'ReadFailed',
  // The Kubernetes API server is throttling or failing: logged, never written to a status (see transient)
  KubernetesThrottled: 'KubernetesThrottled',
  KubernetesUnavailable: 'KubernetesUnavailable',
  // Thalassa answers
  RemoteSecretNotFound: 'RemoteSecretNotFound',
  DeletionNotConfirmed: 'DeletionNotConfirmed',
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

/**
Failures of the Kubernetes API server itself (it shed the request with 429, failed with a 5xx, or
did not answer): they say nothing about the resource, so they are not written to its status and
record no Event (both writes, to a server that is struggling already). Logged, and retried after
the server's Retry-After.
*/
const transientReasons: ReadonlySet<FailureReason> = new Set([reasons.KubernetesThrottled, reasons.KubernetesUnavailable]);

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

  /** Not reported on the resource (no status, no Event): see transientReasons. */
  get transient(): boolean {
    return transientReasons.has(this.reason);
  }
}
