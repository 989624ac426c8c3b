import type { ThalassaSecretStatus } from '../api/v1alpha1/thalassa-secret.ts';

/** A status this operator wrote, and the resourceVersions around that write. */
interface WrittenStatus {
  /** The resourceVersion the write was made from: while the cache still shows it, the cache is behind the write. */
  readonly from: string;
  /** The resourceVersion the write made. */
  readonly resourceVersion: string;
  readonly status: ThalassaSecretStatus;
}

/**
The statuses the reconciler wrote last, for as long as its informer may not have seen them. A
resource is often reconciled again right after its status was written (its Secret's own watch
event queues it), and the informer still holds the resource as it was before that write: a status
computed from that view is compared with an outdated status and sent with an outdated
resourceVersion, which the API server refuses (409), a request for nothing. With the written
status at hand the next status is computed from what is really there, is not sent at all when it
is the same, and otherwise is sent with the resourceVersion the write made.

Bounded: an entry serves only until the informer delivers the write (milliseconds to seconds), so
the most recent writes are all that is kept; without an entry the cache's view is used, as before.
*/
export class WrittenStatuses {
  readonly #entries = new Map<string, WrittenStatus>();
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  /** The status written for `key` and its resourceVersion, when the cache (at `cachedVersion`) has not caught up with it. */
  since(key: string, cachedVersion: string | undefined): { readonly resourceVersion: string; readonly status: ThalassaSecretStatus } | undefined {
    const written = this.#entries.get(key);
    if (!written) return undefined;
    // The cache moved on (to this write, or to a later change by anyone): it is the truth again.
    if (written.from !== cachedVersion) {
      this.#entries.delete(key);
      return undefined;
    }
    return written;
  }

  record(key: string, from: string, resourceVersion: string, status: ThalassaSecretStatus): void {
    this.#entries.delete(key);
    this.#entries.set(key, { from, resourceVersion, status });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
