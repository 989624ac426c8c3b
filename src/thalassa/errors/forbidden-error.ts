import { classifiableText, codeText } from './message-text.ts';
import { firstKind, ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

export type ForbiddenKind = 'featureDisabled' | 'policyDenied' | 'permissionDenied';

function forbiddenKind(text: string): ForbiddenKind | undefined {
  // An IAM policy or role is IAM; a secret's access policy (its IP and time conditions) is not.
  if (/\b(access polic(y|ies)|secret polic(y|ies)|polic(y|ies) conditions?)\b/.test(text)) return 'policyDenied';
  if (/\bfeatures?\b|\bfeature gate\b/.test(text)) return 'featureDisabled';
  if (/\b(secrets?( manager)?|kms)\b.*\b(not enabled|disabled|not available for)\b/.test(text)) return 'featureDisabled';
  if (/\bpolic(y|ies)\b/.test(text) && !/\b(iam|roles?|permissions?|rbac)\b/.test(text)) return 'policyDenied';
  return undefined;
}

/**
403. The reference gives one status for three causes: a feature gate (`secrets` or `kms`) that is
off, an IAM denial, and a secret's access policy. The code (if any) or the message tells them
apart by key phrases (see docs/thalassa-api.md); anything unrecognised counts as an IAM denial.
*/
export class ForbiddenError extends ThalassaApiError {
  override name = 'ForbiddenError';
  readonly kind: ForbiddenKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const values = details.requestValues ?? [];
    this.kind = firstKind([codeText(details.serverCode, values), classifiableText(details.serverMessage, values)], forbiddenKind, 'permissionDenied');
  }
}
