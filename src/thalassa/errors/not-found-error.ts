import { classifiableText } from './message-text.ts';
import { ThalassaApiError, type ApiErrorDetails } from './thalassa-api-error.ts';

/**
What a 404 says is missing. `secret` covers the secret, the version, the KMS key and another
project scope, which Thalassa does not tell apart. `region` and `project` mean the scope the store
names does not exist at all: a mistake in the store, never a sign that a secret was deleted.
*/
export type NotFoundKind = 'secret' | 'region' | 'project';

/** 404: the secret, the version or the KMS key does not exist, or lives in another project scope; or the region or project itself does not. */
export class NotFoundError extends ThalassaApiError {
  override name = 'NotFoundError';
  readonly kind: NotFoundKind;

  constructor(details: ApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    const message = classifiableText(details.serverMessage);
    this.kind = /\bregion not found\b/.test(message) ? 'region' : /\bproject not found\b/.test(message) ? 'project' : 'secret';
  }
}
