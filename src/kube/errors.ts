import { ApiException } from '@kubernetes/client-node';

/**
A Kubernetes API failure reduced to what code needs: the HTTP code, the Status reason
(NotFound, Conflict, AlreadyExists, Invalid, Forbidden...) and the Status message. client-node's
ApiException carries the raw body and response headers, which must not reach logs.
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
  if (error instanceof KubeApiError) return error;
  if (!(error instanceof ApiException)) return undefined;
  const code = (error as ApiException<unknown>).code;
  let status: { reason?: string; message?: string } = {};
  const body: unknown = (error as ApiException<unknown>).body;
  try {
    status = (typeof body === 'string' ? JSON.parse(body) : body) as typeof status;
  } catch {
    status = {};
  }
  return new KubeApiError(code, status.reason, status.message ?? `HTTP ${code}`);
}

/** Runs a Kubernetes API call and rethrows its failure as a KubeApiError. */
export async function kubeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toKubeApiError(error) ?? error;
  }
}

export function isNotFound(error: unknown): boolean {
  return toKubeApiError(error)?.code === 404;
}

export function isConflict(error: unknown): boolean {
  return toKubeApiError(error)?.code === 409;
}
