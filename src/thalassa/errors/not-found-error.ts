import { ThalassaApiError } from './thalassa-api-error.ts';

/** 404: the secret, the version or the KMS key does not exist, or lives in another project scope. */
export class NotFoundError extends ThalassaApiError {
  override name = 'NotFoundError';
}
