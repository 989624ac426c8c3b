import { classifiableText } from './message-text.ts';
import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

export type BadRequestKind = 'versionDestroyed' | 'kmsKeyDisabled' | 'invalidPath' | 'invalidBase64' | 'sizeLimit' | 'validation';

/**
400 (and 413/422). As with 403, the message separates the causes the reference lists under one
status (see docs/thalassa-api.md for the substrings).
*/
export class BadRequestError extends ThalassaApiError {
  override name = 'BadRequestError';
  readonly kind: BadRequestKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const message = classifiableText(details.serverMessage);
    // "kmsKeyIdentity is required" is a validation error, not a disabled key: match the key state.
    this.kind = /destroyed|no active version/.test(message)
      ? 'versionDestroyed'
      : /\bkms\b.*\b(disabled|inactive|not active)\b/.test(message)
        ? 'kmsKeyDisabled'
        : message.includes('path')
          ? 'invalidPath'
          : message.includes('base64')
            ? 'invalidBase64'
            : /size|too large|limit|exceeds/.test(message)
              ? 'sizeLimit'
              : 'validation';
  }
}
