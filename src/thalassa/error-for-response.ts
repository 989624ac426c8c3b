import { parseRetryAfter } from './backoff.ts';
import { BadRequestError } from './errors/bad-request-error.ts';
import { ConflictError } from './errors/conflict-error.ts';
import { ForbiddenError } from './errors/forbidden-error.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import { RateLimitedError } from './errors/rate-limited-error.ts';
import { ThalassaApiError } from './errors/thalassa-api-error.ts';
import { UnauthorizedError } from './errors/unauthorized-error.ts';
import { UnavailableError } from './errors/unavailable-error.ts';
import type { TransportResponse } from './http-transport.ts';
import { scrub } from './scrub.ts';

const maxMessageLength = 300;

/**
The server's own explanation: `message` of the Thalassa error body, or the OAuth2 `error_description`
/ `error` of the token endpoint. Cut short, and dropped when it is not JSON (a proxy's HTML page).
`sensitive` strings (the request's credential and value) are scrubbed out first, before the cut, so
that no part of one survives at the cut.
*/
export function serverMessageOf(body: string, sensitive: readonly string[] = []): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const message = [record['message'], record['error_description'], record['error']].find(
    (m): m is string => typeof m === 'string' && m.length > 0,
  );
  return message === undefined ? undefined : scrub(message, sensitive).slice(0, maxMessageLength);
}

/** The typed error for a non-2xx response; `sensitive` strings never reach its message. */
export function errorForResponse(
  operation: string,
  response: TransportResponse,
  path: string | undefined,
  sensitive: readonly string[] = [],
): ThalassaApiError {
  const details = { operation, status: response.status, serverMessage: serverMessageOf(response.body, sensitive), path };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  switch (response.status) {
    case 400:
    case 413:
    case 422:
      return new BadRequestError(details);
    case 401:
      return new UnauthorizedError(details);
    case 403:
      return new ForbiddenError(details);
    case 404:
      return new NotFoundError(details);
    case 409:
      return new ConflictError(details);
    case 429:
      return new RateLimitedError({ ...details, retryAfterMs });
    default:
      return response.status >= 500 ? new UnavailableError({ ...details, retryAfterMs }) : new ThalassaApiError(details);
  }
}
