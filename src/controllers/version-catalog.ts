/**
What the operator knows of the current versions in Thalassa, per store: filled by the poller's
lists and metadata reads and by reveals, read by reconciles so that they never have to ask again
for a version that is already known. `missing` means a list that would have contained the path
did not: the reconcile confirms with one metadata read before acting on it.
*/
export type KnownVersion =
  | {
      /** The current version; 0 when every version is destroyed. */
      readonly version: number;
      readonly seenAt: number;
      /** When the secret last changed in Thalassa (for rotation lag), if the API said. */
      readonly updatedAt?: number | undefined;
    }
  | 'missing';

export interface PrefixMembers {
  readonly paths: readonly string[];
  readonly seenAt: number;
}

export class VersionCatalog {
  readonly #versions = new Map<string, Map<string, KnownVersion>>();
  /** The last poll of a path or prefix failed: reconciles report this instead of guessing. */
  readonly #failures = new Map<string, Map<string, Error>>();
  readonly #prefixes = new Map<string, Map<string, PrefixMembers>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  current(store: string, path: string): KnownVersion | undefined {
    return this.#versions.get(store)?.get(path);
  }

  failure(store: string, pathOrPrefix: string): Error | undefined {
    return this.#failures.get(store)?.get(pathOrPrefix);
  }

  setFailure(store: string, pathOrPrefix: string, failure: Error): void {
    let failures = this.#failures.get(store);
    if (!failures) this.#failures.set(store, (failures = new Map<string, Error>()));
    failures.set(pathOrPrefix, failure);
  }

  clearFailure(store: string, pathOrPrefix: string): void {
    this.#failures.get(store)?.delete(pathOrPrefix);
  }

  setCurrent(store: string, path: string, version: number, updatedAt?: string  ): void {
    this.clearFailure(store, path);
    const parsed = updatedAt === undefined ? Number.NaN : Date.parse(updatedAt);
    this.#storeVersions(store).set(path, {
      version,
      seenAt: this.#now(),
      ...(Number.isNaN(parsed) ? {} : { updatedAt: parsed }),
    });
  }

  setMissing(store: string, path: string): void {
    this.clearFailure(store, path);
    this.#storeVersions(store).set(path, 'missing');
  }

  prefixMembers(store: string, prefix: string): PrefixMembers | undefined {
    return this.#prefixes.get(store)?.get(prefix);
  }

  /**
  Records a flat list of `listedPrefix`: every path listed gets its current version; every path
  in `expected` under that prefix that is absent becomes missing; and every followed prefix
  under it learns its members.
  */
  recordList(
    store: string,
    listedPrefix: string,
    items: readonly { readonly path: string; readonly currentVersion: number; readonly updatedAt?: string | undefined }[],
    expected: { readonly paths: Iterable<string>; readonly prefixes: Iterable<string> },
  ): void {
    const listed = new Set<string>();
    for (const item of items) {
      listed.add(item.path);
      this.setCurrent(store, item.path, item.currentVersion, item.updatedAt);
    }
    for (const path of expected.paths) {
      if (path.startsWith(listedPrefix) && !listed.has(path)) this.setMissing(store, path);
    }
    const now = this.#now();
    let prefixes = this.#prefixes.get(store);
    if (!prefixes) this.#prefixes.set(store, (prefixes = new Map<string, PrefixMembers>()));
    for (const prefix of expected.prefixes) {
      if (!prefix.startsWith(listedPrefix)) continue;
      this.clearFailure(store, prefix);
      const paths = items.filter((item) => item.path.startsWith(prefix) && item.currentVersion > 0).map((item) => item.path);
      prefixes.set(prefix, { paths: paths.sort(), seenAt: now });
    }
  }

  /** Forgets a store, e.g. when its spec or credentials changed. */
  forgetStore(store: string): void {
    this.#versions.delete(store);
    this.#prefixes.delete(store);
    this.#failures.delete(store);
  }

  #storeVersions(store: string): Map<string, KnownVersion> {
    let versions = this.#versions.get(store);
    if (!versions) this.#versions.set(store, (versions = new Map<string, KnownVersion>()));
    return versions;
  }
}
