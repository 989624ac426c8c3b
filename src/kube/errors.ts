/**
A Kubernetes API failure reduced to what code needs: the HTTP code, the Status reason
(NotFound, Conflict, AlreadyExists, Invalid, Forbidden, TooManyRequests...) and the Status message,
never the raw response body or headers.

For callers that decide what to do with a failure (the reconciler, the work queue):
- `isThrottled(error)`: the API server refused the request for load (429, API Priority and
  Fairness or max-in-flight). The request was not executed. The client has already retried it
  (src/kube/retry.ts) and gave up; nothing about the object is known to be wrong.
- `retryAfterMsOf(error)`: how long the server asked to wait (its `Retry-After`), when it said;
  requeue after that rather than after the key's own backoff.
- `isServerError(error)`: a 5xx; retried by the client for requests that may be repeated.
- `isTransient(error)`: any of these, or a connection failure or timeout: worth trying again later,
  and no reason to report the object as broken.
*/
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  /** The HTTP status; 0 when no answer came (NotLeader, Timeout). */
  readonly code: number;
  readonly reason: string | undefined;
  /** The server's `Retry-After` (or the Status's `details.retryAfterSeconds`), when it sent one. */
  readonly retryAfterMs: number | undefined;
  /** How many times the request was sent before this answer was given up on (1: not retried). */
  readonly attempts: number;

  constructor(code: number, reason: string | undefined, message: string, retryAfterMs?: number, options?: { readonly attempts?: number; readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
    this.attempts = options?.attempts ?? 1;
  }
}

export function toKubeApiError(error: unknown): KubeApiError | undefined {
  return error instanceof KubeApiError ? error : undefined;
}

export function isNotFound(error: unknown): boolean {
  return toKubeApiError(error)?.code === 404;
}

export function isConflict(error: unknown): boolean {
  return toKubeApiError(error)?.code === 409;
}

/** 429: the API server shed the request for load and did not execute it. */
export function isThrottled(error: unknown): boolean {
  return toKubeApiError(error)?.code === 429;
}

/** The server's requested delay in milliseconds (`Retry-After`), or undefined when it named none. */
export function retryAfterMsOf(error: unknown): number | undefined {
  return toKubeApiError(error)?.retryAfterMs;
}

/** 500 to 599: the server (or something in front of it) failed; a write may or may not have happened. */
export function isServerError(error: unknown): boolean {
  const code = toKubeApiError(error)?.code ?? 0;
  return code >= 500 && code <= 599;
}

/** Network error codes of Node's sockets that mean the API server could not be reached or the connection broke. */
const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** No answer: the connection failed or broke (Node's socket errors) or the request timed out. */
export function isConnectionFailure(error: unknown): boolean {
  const kubeError = toKubeApiError(error);
  if (kubeError) return kubeError.code === 0 && kubeError.reason === 'Timeout';
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (connectionErrorCodes.has(code) || code.startsWith('UND_ERR_'));
}

/** Throttled, a server error, or no answer: try again later; the object itself is not known to be at fault. */
export function isTransient(error: unknown): boolean {
  return isThrottled(error) || isServerError(error) || isConnectionFailure(error);
}
