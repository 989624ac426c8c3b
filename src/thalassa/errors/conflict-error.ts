import { ThalassaApiError } from './thalassa-api-error.ts';

/** 409: a secret already exists at that path in this organisation, region and project scope. */
export class ConflictError extends ThalassaApiError {
  override name = 'ConflictError';
}
