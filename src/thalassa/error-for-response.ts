import { isHTTPError, isKyError, isTimeoutError, SchemaValidationError } from 'ky';
import { parseRetryAfter } from '../runtime/backoff.ts';
import { BadRequestError } from './errors/bad-request-error.ts';
import { ConflictError } from './errors/conflict-error.ts';
import { ForbiddenError } from './errors/forbidden-error.ts';
import { InvalidResponseError } from './errors/invalid-response-error.ts';
import { NetworkError, socketErrorCode } from './errors/network-error.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import { RateLimitedError } from './errors/rate-limited-error.ts';
import { ThalassaApiError, type ApiEndpoint } from './errors/thalassa-api-error.ts';
import { ThalassaError } from './errors/thalassa-error.ts';
import { UnauthorizedError } from './errors/unauthorized-error.ts';
import { UnavailableError } from './errors/unavailable-error.ts';
import { scrub } from './scrub.ts';

const maxMessageLength = 300;
const maxCodeLength = 100;

/** What a failed request was, for its error: never a header, a value or a token. */
export interface RequestContext {
  readonly operation: string;
  /** The secret path, for the error's message and `path`. */
  readonly path?: string | undefined;
  readonly endpoint: ApiEndpoint;
  /** What the request carried that a user chose; see `ApiErrorDetails.requestValues`. */
  readonly requestValues: readonly string[];
  /** Credentials and values the request carried, scrubbed out of anything the server sends back. */
  readonly sensitive: readonly string[];
}

export interface ServerError {
  /** `message` of the Thalassa error body, or the OAuth2 `error_description` / `error` of the token endpoint. */
  readonly message: string | undefined;
  /** A machine-readable `code`, `reason` or `errorCode`, if any; the OAuth2 `error` when a description came too. */
  readonly code: string | undefined;
}

/**
The server's own explanation in an error body (ky's `HTTPError.data`: parsed JSON, or text). Cut
short, and nothing when it is not JSON (a proxy's HTML page). `sensitive` strings (the request's
credential and value) are scrubbed out first, before the cut, so that no part of one survives at
the cut.
*/
export function serverErrorOf(data: unknown, sensitive: readonly string[] = []): ServerError {
  let parsed = data;
  if (typeof data === 'string') {
    try {
      parsed = JSON.parse(data);
    } catch {
      return { message: undefined, code: undefined };
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { message: undefined, code: undefined };
  const record = parsed as Record<string, unknown>;
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const message = text(record['message']) ?? text(record['error_description']) ?? text(record['error']);
  const code = text(record['code']) ?? text(record['reason']) ?? text(record['errorCode']) ?? (message === text(record['error']) ? undefined : text(record['error']));
  return {
    message: message === undefined ? undefined : scrub(message, sensitive).slice(0, maxMessageLength),
    code: code === undefined ? undefined : scrub(code, sensitive).slice(0, maxCodeLength),
  };
}

/** The typed error for a non-2xx answer; `sensitive` strings never reach its message. */
export function errorForResponse(status: number, headers: Headers, data: unknown, context: RequestContext): ThalassaApiError {
  const server = serverErrorOf(data, context.sensitive);
  const details = {
    operation: context.operation,
    status,
    serverMessage: server.message,
    serverCode: server.code,
    path: context.path,
    endpoint: context.endpoint,
    requestValues: context.requestValues,
  };
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
  switch (status) {
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
      return status >= 500 ? new UnavailableError({ ...details, retryAfterMs }) : new ThalassaApiError(details);
  }
}

/**
The client's error for what ky threw: an HTTP error by status, a timeout or a network failure as
`NetworkError`. Nothing of ky's errors survives: they hold the request, with its Authorization
header, and must not travel into logs as a `cause`. Anything else passes unchanged: an abort (the
caller's signal), the client's own errors thrown from hooks, and a credential's own failure (a
ServiceAccount token that cannot be had).
*/
export function thalassaErrorOf(error: unknown, context: RequestContext, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || error instanceof ThalassaError) return error;
  if (isHTTPError(error)) return errorForResponse(error.response.status, error.response.headers, error.data, context);
  if (isTimeoutError(error)) return new NetworkError(context.operation, { timedOut: true });
  // ky's NetworkError (its cause is fetch's error, with the socket's code), or a forced retry past the limit.
  if (isKyError(error)) return new NetworkError(context.operation, { timedOut: false, code: socketErrorCode(error) });
  return error;
}

/** The client's error for a 2xx body that `.json(schema)` could not read. */
export function unreadableBody(error: unknown, context: RequestContext, signal: AbortSignal | undefined): unknown {
  if (error instanceof SchemaValidationError) return invalidShape(context.operation, error);
  if (error instanceof SyntaxError) return new InvalidResponseError(context.operation, 'the body is not JSON');
  return thalassaErrorOf(error, context, signal);
}

/** Issue paths name fields; the values stay out of the message. */
export function invalidShape(operation: string, error: SchemaValidationError): InvalidResponseError {
  const fields = error.issues
    .map((issue) => (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || '(root)')
    .join(', ');
  return new InvalidResponseError(operation, `unexpected shape at ${fields}`);
}
