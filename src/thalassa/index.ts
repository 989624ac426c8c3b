export { ThalassaClient, defaultApiURL } from './client.ts';
export type {
  CallOptions,
  CreateSecretInput,
  RetryOptions,
  RevealedSecret,
  SecretPayload,
  SecretValue,
  ThalassaClientOptions,
} from './client.ts';
export type { ThalassaCredential } from './credentials.ts';
export { assertValidPath, maxPathLength, pathProblem } from './paths.ts';
export { decodeBase64Strict, encodeBase64 } from './base64.ts';
export { fullJitterDelay, parseRetryAfter } from './backoff.ts';
export { TokenBucket } from './token-bucket.ts';
export type { AccessPolicy, BrowseResponse, SecretMetadata, SecretVersion } from './wire.ts';
export { ThalassaError, isThalassaError } from './errors/thalassa-error.ts';
export { ThalassaApiError } from './errors/thalassa-api-error.ts';
export { BadRequestError, type BadRequestKind } from './errors/bad-request-error.ts';
export { ConflictError } from './errors/conflict-error.ts';
export { ForbiddenError, type ForbiddenKind } from './errors/forbidden-error.ts';
export { InvalidPathError } from './errors/invalid-path-error.ts';
export { InvalidResponseError } from './errors/invalid-response-error.ts';
export { NetworkError } from './errors/network-error.ts';
export { NotFoundError, type NotFoundKind } from './errors/not-found-error.ts';
export { RateLimitedError } from './errors/rate-limited-error.ts';
export { UnauthorizedError } from './errors/unauthorized-error.ts';
export { UnavailableError } from './errors/unavailable-error.ts';
