import { ThalassaApiError } from './thalassa-api-error.ts';

/** 401: the credential is missing, wrong or expired (also from the OIDC token endpoint). */
export class UnauthorizedError extends ThalassaApiError {
  override name = 'UnauthorizedError';
}
