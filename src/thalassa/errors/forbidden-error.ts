import { classifiableText } from './message-text.ts';
import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

export type ForbiddenKind = 'featureDisabled' | 'policyDenied' | 'permissionDenied';

/**
403. The reference gives one status for three causes; the server's message tells them apart
(see docs/thalassa-api.md), and anything unrecognised counts as an IAM denial.
*/
export class ForbiddenError extends ThalassaApiError {
  override name = 'ForbiddenError';
  readonly kind: ForbiddenKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const message = classifiableText(details.serverMessage);
    this.kind = message.includes('feature')
      ? 'featureDisabled'
      : message.includes('policy')
        ? 'policyDenied'
        : 'permissionDenied';
  }
}
