import type { RevealedSecret } from '../thalassa/client.ts';

/**
Revealed values by store, path and version, least recently used first out, within a byte budget.
It lets the operator repair an edited or deleted Secret, or serve a second resource that wants the
same version, without revealing again. It is only memory: after a restart an intact Secret needs
no value at all, and a damaged one is rebuilt by revealing its recorded versions.

It also makes concurrent reveals of one value share one request (`reveal`): the children of a
ClusterThalassaSecret in 500 namespaces, all syncing at once, all miss the cache at the same moment.
*/
export class ValueCache {
  readonly #entries = new Map<string, RevealedSecret>();
  /** Reveals in flight, by store, path and version (`current` for the current version). */
  readonly #inFlight = new Map<string, Promise<RevealedSecret>>();
  readonly #budgetBytes: number;
  #bytes = 0;

  constructor(budgetBytes: number) {
    this.#budgetBytes = budgetBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(store: string, path: string, version: number): RevealedSecret | undefined {
    const key = cacheKey(store, path, version);
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
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
      this.#bytes -= sizeOf(previous);
      this.#entries.delete(key);
    }
    this.#entries.set(key, secret);
    this.#bytes += size;
    for (const [oldest, value] of this.#entries) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= sizeOf(value);
    }
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
