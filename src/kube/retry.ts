/**
When the Kubernetes client sends a request again, and after how long. Pure, so that the policy is
tested without a server (retry.test.ts).

- 429 (API Priority and Fairness, max-in-flight): the server rejected the request before executing
  it, so any request is sent again, creates (POST) included.
- 500, 502, 503, 504 and a connection that broke after the request may have left (reset, timeout):
  only requests that can be repeated without effect beyond the first (GET, PUT, PATCH, DELETE).
  A create is not: a 5xx can come after the object was stored (an etcd timeout answers 500 or 504
  after the write may have landed), and a second POST would then answer 409 AlreadyExists, which
  the reconciler reads as "someone else's Secret". A failed create goes back to the caller, whose
  next attempt starts from its caches again and finds the object if it was made.
- A connection that could not be opened (refused, no route, DNS): nothing was sent, any request.
- The wait is the server's `Retry-After`, when it named one, plus full jitter that grows with each
  attempt, so that clients throttled together do not come back together. A `Retry-After` longer than
  `maxRetryAfterMs` is not waited out here: the error goes back to the caller with `retryAfterMs`,
  and the work queue requeues after it instead of a worker sleeping.
*/
import { fullJitterDelay } from '../runtime/backoff.ts';
import { toKubeApiError } from './errors.ts';

export interface KubeRetryOptions {
  /** Sends in all, the first included; 1 turns retries off. */
  readonly maxAttempts: number;
  /** Backoff ceiling of the first retry, doubled with each one (full jitter). */
  readonly baseMs: number;
  readonly maxMs: number;
  /** A longer `Retry-After` is handed back to the caller rather than waited for. */
  readonly maxRetryAfterMs: number;
  /** No retry starts once this long has passed since the first send, waits included. */
  readonly budgetMs: number;
}

export const defaultKubeRetryOptions: KubeRetryOptions = { maxAttempts: 5, baseMs: 200, maxMs: 5_000, maxRetryAfterMs: 10_000, budgetMs: 30_000 };

/** What one send came back with: an HTTP status (and the server's delay), or an error without an answer. */
export type SendOutcome = { readonly status: number; readonly retryAfterMs?: number | undefined } | { readonly error: unknown };

/** HTTP's idempotent methods; the operator's PATCHes set values (merge, strategic merge, apply), so repeating one is harmless. */
const repeatableMethods = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
const retriedServerErrors = new Set([500, 502, 503, 504]);
/** The connection was never made: nothing reached the server. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** The connection broke or timed out with the request possibly delivered. */
const brokenCodes = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

export type RetryClass = 'any' | 'repeatable' | 'never';

/** Which requests an outcome may be retried for. */
export function retryClass(outcome: SendOutcome): RetryClass {
  if ('status' in outcome) {
    if (outcome.status === 429) return 'any';
    return retriedServerErrors.has(outcome.status) ? 'repeatable' : 'never';
  }
  const kubeError = toKubeApiError(outcome.error);
  if (kubeError) return kubeError.code === 0 && kubeError.reason === 'Timeout' ? 'repeatable' : 'never';
  const code = (outcome.error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'never';
  if (notSentCodes.has(code)) return 'any';
  return brokenCodes.has(code) ? 'repeatable' : 'never';
}

/**
How long to wait before sending again, or undefined to give up now. `attempt` counts the sends so
far (1 after the first), `elapsedMs` the time since the first one.
*/
export function retryDelay(
  method: string,
  outcome: SendOutcome,
  attempt: number,
  elapsedMs: number,
  options: KubeRetryOptions = defaultKubeRetryOptions,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= options.maxAttempts) return undefined;
  const allowed = retryClass(outcome);
  if (allowed === 'never' || (allowed === 'repeatable' && !repeatableMethods.has(method.toUpperCase()))) return undefined;
  const serverDelay = 'status' in outcome ? outcome.retryAfterMs : undefined;
  if (serverDelay !== undefined && serverDelay > options.maxRetryAfterMs) return undefined;
  const delay = (serverDelay ?? 0) + fullJitterDelay(attempt - 1, { baseMs: options.baseMs, maxMs: options.maxMs }, random);
  return elapsedMs + delay > options.budgetMs ? undefined : delay;
}
