import type { RevealedSecret } from '../thalassa/client.ts';

/**
Revealed values by store, path and version, least recently used first out, within a byte budget,
and each for `retentionMs` after its last use. It lets the operator serve a second resource that
wants the same version (the resources of one rotation or one fan-out ask within seconds of each
other), or repair an edited or deleted Secret soon after it was written, without revealing again.
Past that a value serves no purpose that is worth its memory: at rest every Secret holds its
values, and a damaged one is rebuilt by revealing its recorded versions, as after a restart.

It also makes concurrent reveals of one value share one request (`reveal`): the children of a
ClusterThalassaSecret in 500 namespaces, all syncing at once, all miss the cache at the same moment.
*/
export class ValueCache {
  /** In order of last use, oldest first, with the time (`now()`) of that use. */
  readonly #entries = new Map<string, { readonly secret: RevealedSecret; readonly usedAt: number }>();
  /** Reveals in flight, by store, path and version (`current` for the current version). */
  readonly #inFlight = new Map<string, Promise<RevealedSecret>>();
  readonly #budgetBytes: number;
  readonly #retentionMs: number;
  readonly #now: () => number;
  /** Drops expired values while there are any; unreferenced, so it never keeps the process alive. */
  #sweeper: NodeJS.Timeout | undefined;
  #bytes = 0;

  constructor(budgetBytes: number, options: { readonly retentionMs?: number; readonly now?: () => number } = {}) {
    this.#budgetBytes = budgetBytes;
    this.#retentionMs = options.retentionMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(store: string, path: string, version: number): RevealedSecret | undefined {
    const key = cacheKey(store, path, version);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (this.#now() - entry.usedAt >= this.#retentionMs) {
      this.#bytes -= sizeOf(entry.secret);
      return undefined;
    }
    this.#entries.set(key, { secret: entry.secret, usedAt: this.#now() });
    return entry.secret;
  }

  /** Drops every value unused for the retention time; the sweeper calls it, tests may too. */
  expire(): void {
    const cutoff = this.#now() - this.#retentionMs;
    for (const [key, entry] of this.#entries) {
      if (entry.usedAt > cutoff) break;
      this.#entries.delete(key);
      this.#bytes -= sizeOf(entry.secret);
    }
    if (this.#entries.size === 0) this.#stopSweeping();
  }


  /**
  The value of `path` at `version` (undefined: the current version) from the cache, else from
  `reveal`, called once for all who ask for the same store, path and version while it is in
  flight; they all get its answer, or its error. A caller asking for version N while the current
  version is being revealed waits for that and takes it if it is N. A finished reveal of the
  current version is forgotten only after the callers' continuations have run (next turn of the
  event loop), by when the version it brought is in the version catalog: a reconcile that planned
  meanwhile joins it rather than revealing again. The request runs with the first caller's abort
  signal (in the operator, every worker's is the same shutdown signal).
  */
  async reveal(store: string, path: string, version: number | undefined, reveal: () => Promise<RevealedSecret>): Promise<RevealedSecret> {
    if (version !== undefined) {
      const cached = this.get(store, path, version);
      if (cached) return cached;
      const current = this.#inFlight.get(flightKey(store, path, undefined));
      if (current) {
        const revealed = await current.catch(() => undefined);
        if (revealed?.version === version) return revealed;
      }
    }
    const key = flightKey(store, path, version);
    const pending = this.#inFlight.get(key);
    if (pending) return await pending;
    const flight = reveal().then((revealed) => {
      this.set(store, revealed);
      return revealed;
    });
    this.#inFlight.set(key, flight);
    const forget = () => {
      if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
    };
    flight.then(
      () => setImmediate(forget),
      () => setImmediate(forget),
    );
    return await flight;
  }

  /** Reveals in flight now (for tests). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  set(store: string, revealed: RevealedSecret): void {
    const key = cacheKey(store, revealed.path, revealed.version);
    const secret = compact(revealed);
    const size = sizeOf(secret);
    if (size > this.#budgetBytes) return;
    const previous = this.#entries.get(key);
    if (previous) {
      this.#bytes -= sizeOf(previous.secret);
      this.#entries.delete(key);
    }
    this.#entries.set(key, { secret, usedAt: this.#now() });
    this.#bytes += size;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= sizeOf(entry.secret);
    }
    this.#startSweeping();
  }

  #startSweeping(): void {
    if (this.#sweeper || !Number.isFinite(this.#retentionMs)) return;
    // A value lives between retention and 1.25 × retention: a quarter is the sweep's granularity.
    this.#sweeper = setInterval(() => this.expire(), Math.max(1000, this.#retentionMs / 4));
    this.#sweeper.unref();
  }

  #stopSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

/**
A copy whose bytes own an exact-size allocation. A small Buffer is a view into Node's shared
64 KiB pool slab (Buffer.poolSize in Node 24), so keeping a 3 KiB value would keep the whole
slab alive: measured at 26 MiB of slabs for 3 MiB of values at 1,000 resources.
*/
function compact(secret: RevealedSecret): RevealedSecret {
  if (secret.value.format !== 'string') return secret;
  const bytes = Buffer.allocUnsafeSlow(secret.value.bytes.length);
  secret.value.bytes.copy(bytes);
  return { path: secret.path, version: secret.version, value: { format: 'string', bytes } };
}

function flightKey(store: string, path: string, version: number | undefined): string {
  return `${store}\u0000${path}\u0000${version ?? 'current'}`;
}

function cacheKey(store: string, path: string, version: number): string {
  return `${store}\u0000${path}\u0000${version}`;
}

function sizeOf(secret: RevealedSecret): number {
  const value = secret.value;
  if (value.format === 'string') return value.bytes.length + secret.path.length + 64;
  let size = secret.path.length + 64;
  for (const [k, v] of Object.entries(value.values)) size += k.length + v.length * 2;
  return size;
}
