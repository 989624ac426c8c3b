import { classifiableText, codeText } from './message-text.ts';
import { firstKind, ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

export type BadRequestKind = 'versionDestroyed' | 'kmsKeyDisabled' | 'invalidPath' | 'invalidBase64' | 'sizeLimit' | 'validation';

function badRequestKind(text: string): BadRequestKind | undefined {
  if (/\bdestroyed\b|\bno (active|current) versions?\b|\bversions? (is |are |has been )?(not active|inactive)\b/.test(text)) return 'versionDestroyed';
  // "kmsKeyIdentity is required" is a validation error, not a disabled key: match the key's state.
  if (/\b(kms|encryption key)\b.*\b(disabled|inactive|not active|pending deletion)\b/.test(text)) return 'kmsKeyDisabled';
  if (/\bpath/.test(text)) return 'invalidPath';
  if (/base ?64/.test(text)) return 'invalidBase64';
  if (/\bsize\b|too (large|big|long|many)|\blimits?\b|exceeds/.test(text)) return 'sizeLimit';
  return undefined;
}

/**
400, 413 and 422. 413 is a size limit by its status; under 400 and 422 the code (if any) or the
message separates the causes the reference lists under one status, by key phrases (see
docs/thalassa-api.md), and anything unrecognised is `validation`.
*/
export class BadRequestError extends ThalassaApiError {
  override name = 'BadRequestError';
  readonly kind: BadRequestKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const values = details.requestValues ?? [];
    this.kind =
      details.status === 413
        ? 'sizeLimit'
        : firstKind([codeText(details.serverCode, values), classifiableText(details.serverMessage, values)], badRequestKind, 'validation');
  }
}
