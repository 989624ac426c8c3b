import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

export type BadRequestKind = 'versionDestroyed' | 'kmsKeyDisabled' | 'invalidPath' | 'invalidBase64' | 'sizeLimit' | 'validation';

/** 400. As with 403, the message separates the causes the reference lists under one status. */
export class BadRequestError extends ThalassaApiError {
  override name = 'BadRequestError';
  readonly kind: BadRequestKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const message = details.serverMessage?.toLowerCase() ?? '';
    this.kind = /destroyed|no active version/.test(message)
      ? 'versionDestroyed'
      : message.includes('kms')
        ? 'kmsKeyDisabled'
        : message.includes('path')
          ? 'invalidPath'
          : message.includes('base64')
            ? 'invalidBase64'
            : /size|too large|limit/.test(message)
              ? 'sizeLimit'
              : 'validation';
  }
}
