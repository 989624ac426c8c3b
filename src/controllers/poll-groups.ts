/**
How the poller covers the followed secrets of one store with as few requests as possible: paths
and prefixes are grouped by their first path segment; a group is answered by one flat list of the
deepest prefix that covers all its members, and a group of one lone path by one metadata read.
Pure, so the grouping is unit-tested.
*/

export type PollRequest =
  | { readonly kind: 'list'; readonly prefix: string; readonly paths: readonly string[]; readonly prefixes: readonly string[] }
  | { readonly kind: 'metadata'; readonly path: string };

export interface Followed {
  readonly paths: ReadonlySet<string>;
  readonly prefixes: ReadonlySet<string>;
}

/** The poll group of a followed path or prefix: its first path segment (`/app/` of `/app/db/password`). */
export function pollGroupOf(pathOrPrefix: string): string {
  const next = pathOrPrefix.indexOf('/', 1);
  return next < 0 ? pathOrPrefix : pathOrPrefix.slice(0, next + 1);
}

/** The deepest directory prefix (ending in "/") shared by all entries. */
export function commonDirectory(entries: readonly string[]): string {
  if (entries.length === 0) return '/';
  const directory = (entry: string) => entry.slice(0, entry.lastIndexOf('/') + 1);
  let common = directory(entries[0] ?? '/');
  for (const entry of entries) {
    const dir = directory(entry);
    while (!dir.startsWith(common)) common = common.slice(0, common.lastIndexOf('/', common.length - 2) + 1);
  }
  return common === '' ? '/' : common;
}

/** The requests for everything followed: one per poll group (pollGroupOf), in the groups' order. */
export function pollRequests(followed: Followed): PollRequest[] {
  const groups = new Map<string, { paths: string[]; prefixes: string[] }>();
  const group = (key: string) => {
    let found = groups.get(key);
    if (!found) groups.set(key, (found = { paths: [], prefixes: [] }));
    return found;
  };
  for (const path of followed.paths) group(pollGroupOf(path)).paths.push(path);
  for (const prefix of followed.prefixes) group(pollGroupOf(prefix)).prefixes.push(prefix);
  const requests: PollRequest[] = [];
  for (const [, { paths, prefixes }] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const request = groupRequest(paths, prefixes);
    if (request) requests.push(request);
  }
  return requests;
}

/**
The one request of one poll group, from its distinct paths and prefixes (all of one pollGroupOf):
a metadata read of a lone path, else a list of their deepest common folder. The arrays are sorted
in place. Nothing to follow, no request.
*/
export function groupRequest(paths: string[], prefixes: string[]): PollRequest | undefined {
  const [lone] = paths;
  if (prefixes.length === 0 && paths.length === 1 && lone !== undefined) return { kind: 'metadata', path: lone };
  if (paths.length + prefixes.length === 0) return undefined;
  return { kind: 'list', prefix: commonDirectory([...paths, ...prefixes]), paths: paths.sort(), prefixes: prefixes.sort() };
}

/** Go-style durations as the CRD allows them (`30s`, `5m`, `1h30m`, `0`), in milliseconds. */
export function parseDuration(value: string): number {
  if (value === '0') return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = '';
  for (const part of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(part[1]) * (units[part[2] ?? ''] ?? 0);
    matched += part[0];
  }
  if (matched !== value) throw new Error(`"${value}" is not a duration such as 30s, 5m or 1h30m`);
  return total;
}
