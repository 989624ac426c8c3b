import { describe, expect, it } from 'vitest';
import { pollGroupOf, pollRequests, type PollRequest } from './poll-groups.ts';
import { PollIndex, type PollMember } from './poll-index.ts';

function member(key: string, spec: Partial<Omit<PollMember, 'key'>>): PollMember {
  return { key, namespace: 'ns', store: 'ClusterThalassaSecretStore/shared', intervalMs: 60_000, paths: [], prefixes: [], ...spec };
}

interface Planned {
  readonly store: string;
  readonly intervalMs: number;
  readonly request: PollRequest;
  readonly members: readonly string[];
}

/** The groups made from scratch from every member, as the poller once did at every change. */
function fromScratch(members: Iterable<PollMember>): Planned[] {
  const buckets = new Map<string, PollMember[]>();
  for (const m of members) {
    if (m.intervalMs <= 0) continue;
    const key = `${m.store}|${m.intervalMs}`;
    buckets.set(key, [...(buckets.get(key) ?? []), m]);
  }
  const planned: Planned[] = [];
  for (const bucket of buckets.values()) {
    const [first] = bucket;
    if (!first) continue;
    const requests = pollRequests({ paths: new Set(bucket.flatMap((m) => m.paths)), prefixes: new Set(bucket.flatMap((m) => m.prefixes)) });
    for (const request of requests) {
      const segment = pollGroupOf(request.kind === 'metadata' ? request.path : (request.paths[0] ?? request.prefixes[0] ?? ''));
      const members = bucket.filter((m) => [...m.paths, ...m.prefixes].some((entry) => pollGroupOf(entry) === segment)).map((m) => m.key);
      planned.push({ store: first.store, intervalMs: first.intervalMs, request, members: members.sort() });
    }
  }
  return sortPlanned(planned);
}

function ofIndex(index: PollIndex): Planned[] {
  return sortPlanned(
    [...index.groups()].map((g) => ({ store: g.store, intervalMs: g.intervalMs, request: g.request, members: [...g.members()].map((m) => m.key).sort() })),
  );
}

function sortPlanned(planned: Planned[]): Planned[] {
  const key = (p: Planned) => `${p.store}|${p.intervalMs}|${JSON.stringify(p.request)}`;
  return planned.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** A small deterministic generator (mulberry32), so a failure replays. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PollIndex', () => {
  it('keeps the same groups as making them from scratch, through adds, changes and removals', () => {
    const random = generator(15);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const entries = ['/app/a', '/app/b', '/app/team/c', '/app/team/d', '/pay/x', '/pay/y/z', '/lone', '/ops/k'];
    const prefixes = ['/app/', '/app/team/', '/pay/y/', '/ops/'];
    const index = new PollIndex();
    const members = new Map<string, PollMember>();
    for (let step = 0; step < 2_000; step++) {
      const key = `ns-${Math.floor(random() * 3)}/r-${Math.floor(random() * 40)}`;
      if (random() < 0.25) {
        index.update(key, undefined);
        members.delete(key);
      } else {
        const next = member(key, {
          namespace: key.split('/')[0] ?? '',
          store: pick(['ClusterThalassaSecretStore/shared', 'ThalassaSecretStore/ns-0/own']),
          intervalMs: pick([0, 1_000, 60_000]),
          paths: [...new Set(Array.from({ length: Math.floor(random() * 3) }, () => pick(entries)))],
          prefixes: [...new Set(Array.from({ length: Math.floor(random() * 2) }, () => pick(prefixes)))],
        });
        index.update(key, next);
        members.set(key, next);
      }
      expect(ofIndex(index), `after step ${step}`).toEqual(fromScratch(members.values()));
    }
    expect(index.size).toBe(members.size);
  });

  it('keeps a group whose only member changes what it follows within it, and reports no change', () => {
    const index = new PollIndex();
    const [group] = index.update('ns/a', member('ns/a', { paths: ['/app/a'] })).added;
    expect(group?.request).toEqual({ kind: 'metadata', path: '/app/a' });
    expect(index.update('ns/a', member('ns/a', { paths: ['/app/a', '/app/team/b'] }))).toEqual({ added: [], removed: [] });
    expect([...index.groups()]).toEqual([group]);
    expect(group?.request).toEqual({ kind: 'list', prefix: '/app/', paths: ['/app/a', '/app/team/b'], prefixes: [] });
    // The same spec again changes nothing, and the request is not made again.
    const request = group?.request;
    expect(index.update('ns/a', member('ns/a', { paths: ['/app/a', '/app/team/b'] }))).toEqual({ added: [], removed: [] });
    expect(group?.request).toBe(request);
  });

  it('counts references: a path stays while any member follows it', () => {
    const index = new PollIndex();
    index.update('ns/a', member('ns/a', { paths: ['/app/team/a', '/app/team/shared'] }));
    index.update('ns/b', member('ns/b', { paths: ['/app/team/shared'] }));
    index.update('ns/a', undefined);
    const [group] = [...index.groups()];
    expect(group?.request).toEqual({ kind: 'metadata', path: '/app/team/shared' });
    const change = index.update('ns/b', undefined);
    expect(change.removed).toEqual([group]);
    expect(group?.live).toBe(false);
    expect([...index.groups()]).toEqual([]);
    expect(index.hasGroups('ClusterThalassaSecretStore/shared')).toBe(false);
  });

  it('keeps a resource that is never polled by itself out of every group, and still knows what it follows', () => {
    const index = new PollIndex();
    const off = member('ns/off', { intervalMs: 0, paths: ['/app/a'] });
    expect(index.update('ns/off', off)).toEqual({ added: [], removed: [] });
    expect([...index.groups()]).toEqual([]);
    expect(index.get('ns/off')).toBe(off);
  });

  it('groups the members by namespace', () => {
    const index = new PollIndex();
    for (const key of ['a/one', 'a/two', 'b/three']) index.update(key, member(key, { namespace: key.split('/')[0] ?? '', paths: [`/app/${key}`] }));
    const [group] = [...index.groups()];
    expect([...(group?.byNamespace ?? new Map<string, unknown>())].map(([namespace, members]) => [namespace, [...(members as Map<string, unknown>).keys()]])).toEqual([
      ['a', ['a/one', 'a/two']],
      ['b', ['b/three']],
    ]);
    expect(group?.size).toBe(3);
  });
});
