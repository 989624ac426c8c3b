/**
A Kubernetes API failure reduced to what code needs: the HTTP code, the Status reason
(NotFound, Conflict, AlreadyExists, Invalid, Forbidden...) and the Status message, never the raw
response body or headers.
*/
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly reason: string | undefined;
  /** From a 429's Retry-After, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(code: number, reason: string | undefined, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
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
