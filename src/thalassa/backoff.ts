/** Moved to src/runtime/backoff.ts (one backoff for the Thalassa client, the Kubernetes client and the controllers); kept for old imports. */
export { fullJitterDelay, parseRetryAfter, type BackoffOptions } from '../runtime/backoff.ts';
