import { groupRequest, pollGroupOf, type PollRequest } from './poll-groups.ts';

/**
The version poller's poll groups, kept up to date one resource at a time from watch events
instead of being made again from every resource: store → refresh interval → poll group (first
path segment, see poll-groups.ts), each group with reference counts of its paths and prefixes and
its members by namespace. A change to one resource touches only the groups of its own paths and
prefixes, and a group's request is made again only when it is next asked for after a change.
Pure (no clock, no I/O), so it is unit-tested against the groups made from scratch.
*/

/** What one resource asks the poller to follow. */
export interface PollMember {
  readonly key: string;
  readonly namespace: string;
  /** Which store (store-ref.ts), from the spec alone: whether the resource may use it is the poll's question. */
  readonly store: string;
  /** 0: never polled by itself (force-sync only), so in no group. */
  readonly intervalMs: number;
  /** Distinct. */
  readonly paths: readonly string[];
  /** Distinct. */
  readonly prefixes: readonly string[];
}

/** One poll group: one request, and the resources it serves, all of one store and one interval. */
export class PollGroup {
  /** `<store>|<interval ms>|<first segment>`: stable while the group has members, whatever they follow. */
  readonly key: string;
  readonly store: string;
  readonly intervalMs: number;
  /** The first path segment of everything it follows. */
  readonly segment: string;
  /** Cleared when its last member left: the poller drops what it holds for the group. */
  live = true;
  readonly #paths = new Map<string, number>();
  readonly #prefixes = new Map<string, number>();
  readonly #byNamespace = new Map<string, Map<string, PollMember>>();
  #size = 0;
  #request: PollRequest | undefined;

  constructor(store: string, intervalMs: number, segment: string) {
    this.key = `${store}|${intervalMs}|${segment}`;
    this.store = store;
    this.intervalMs = intervalMs;
    this.segment = segment;
  }

  /** How many resources the group serves. */
  get size(): number {
    return this.#size;
  }

  /** The request that answers every member; made again after the members changed, when asked for. */
  get request(): PollRequest {
    this.#request ??= groupRequest([...this.#paths.keys()], [...this.#prefixes.keys()]);
    // A group always has a path or prefix: it is removed with its last member.
    if (!this.#request) throw new Error(`poll group ${this.key} has nothing to poll`);
    return this.#request;
  }

  /** The members by namespace: a shared store is resolved once for each. */
  get byNamespace(): ReadonlyMap<string, ReadonlyMap<string, PollMember>> {
    return this.#byNamespace;
  }

  *members(): IterableIterator<PollMember> {
    for (const members of this.#byNamespace.values()) yield* members.values();
  }

  /** Adds a member with the paths and prefixes of it that fall into this group. */
  add(member: PollMember, paths: readonly string[], prefixes: readonly string[]): void {
    let members = this.#byNamespace.get(member.namespace);
    if (!members) this.#byNamespace.set(member.namespace, (members = new Map<string, PollMember>()));
    if (!members.has(member.key)) this.#size++;
    members.set(member.key, member);
    for (const path of paths) this.#request = increment(this.#paths, path) ? undefined : this.#request;
    for (const prefix of prefixes) this.#request = increment(this.#prefixes, prefix) ? undefined : this.#request;
  }

  /** Removes what add() added for the member. */
  remove(member: PollMember, paths: readonly string[], prefixes: readonly string[]): void {
    const members = this.#byNamespace.get(member.namespace);
    if (members?.delete(member.key)) this.#size--;
    if (members?.size === 0) this.#byNamespace.delete(member.namespace);
    for (const path of paths) this.#request = decrement(this.#paths, path) ? undefined : this.#request;
    for (const prefix of prefixes) this.#request = decrement(this.#prefixes, prefix) ? undefined : this.#request;
  }
}

/** What one update changed: groups that came to be, and groups that lost their last member. */
export interface PollIndexChange {
  readonly added: readonly PollGroup[];
  readonly removed: readonly PollGroup[];
}

const unchanged: PollIndexChange = { added: [], removed: [] };

export class PollIndex {
  readonly #members = new Map<string, PollMember>();
  /** store → interval → first segment → group. */
  readonly #stores = new Map<string, Map<number, Map<string, PollGroup>>>();

  get size(): number {
    return this.#members.size;
  }

  get(key: string): PollMember | undefined {
    return this.#members.get(key);
  }

  /** Whether any group polls `store`. */
  hasGroups(store: string): boolean {
    return this.#stores.has(store);
  }

  *groups(): IterableIterator<PollGroup> {
    for (const intervals of this.#stores.values()) for (const groups of intervals.values()) yield* groups.values();
  }

  /**
  Records what the resource `key` follows now (undefined: nothing, or it is gone). Costs the
  resource's own paths and prefixes, whatever the number of resources. A group that loses one
  member and gains another in the same update stays the same group (its schedule is kept).
  */
  update(key: string, next: PollMember | undefined): PollIndexChange {
    const previous = this.#members.get(key);
    if (previous === next || (previous && next && sameMember(previous, next))) return unchanged;
    // A member is in each group at most once, so no group is touched twice.
    const touched: PollGroup[] = [];
    const added: PollGroup[] = [];
    if (previous) {
      this.#members.delete(key);
      for (const [segment, part] of bySegment(previous)) {
        const group = this.#stores.get(previous.store)?.get(previous.intervalMs)?.get(segment);
        if (!group) continue;
        group.remove(previous, part.paths, part.prefixes);
        touched.push(group);
      }
    }
    if (next) {
      this.#members.set(key, next);
      for (const [segment, part] of bySegment(next)) {
        let intervals = this.#stores.get(next.store);
        if (!intervals) this.#stores.set(next.store, (intervals = new Map<number, Map<string, PollGroup>>()));
        let groups = intervals.get(next.intervalMs);
        if (!groups) intervals.set(next.intervalMs, (groups = new Map<string, PollGroup>()));
        let group = groups.get(segment);
        if (!group) {
          groups.set(segment, (group = new PollGroup(next.store, next.intervalMs, segment)));
          added.push(group);
        }
        group.add(next, part.paths, part.prefixes);
      }
    }
    const removed: PollGroup[] = [];
    for (const group of touched) {
      if (group.size > 0) continue;
      group.live = false;
      removed.push(group);
      const intervals = this.#stores.get(group.store);
      const groups = intervals?.get(group.intervalMs);
      groups?.delete(group.segment);
      if (groups?.size === 0) intervals?.delete(group.intervalMs);
      if (intervals?.size === 0) this.#stores.delete(group.store);
    }
    return { added, removed };
  }
}

/** A member's paths and prefixes by poll group; none for a member that is never polled by itself. */
function bySegment(member: PollMember): Map<string, { paths: string[]; prefixes: string[] }> {
  const parts = new Map<string, { paths: string[]; prefixes: string[] }>();
  if (member.intervalMs <= 0) return parts;
  const part = (entry: string) => {
    const segment = pollGroupOf(entry);
    let found = parts.get(segment);
    if (!found) parts.set(segment, (found = { paths: [], prefixes: [] }));
    return found;
  };
  for (const path of member.paths) part(path).paths.push(path);
  for (const prefix of member.prefixes) part(prefix).prefixes.push(prefix);
  return parts;
}

function sameMember(a: PollMember, b: PollMember): boolean {
  return a.namespace === b.namespace && a.store === b.store && a.intervalMs === b.intervalMs && sameList(a.paths, b.paths) && sameList(a.prefixes, b.prefixes);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry === b[i]);
}

/** Counts one more reference; true when the entry is new. */
function increment(counts: Map<string, number>, entry: string): boolean {
  const count = counts.get(entry) ?? 0;
  counts.set(entry, count + 1);
  return count === 0;
}

/** Counts one reference less; true when it was the last. */
function decrement(counts: Map<string, number>, entry: string): boolean {
  const count = counts.get(entry);
  if (count === undefined) return false;
  if (count > 1) {
    counts.set(entry, count - 1);
    return false;
  }
  counts.delete(entry);
  return true;
}
