import { describe, expect, it } from 'vitest';
import { commonDirectory, groupRequest, parseDuration, pollGroupOf, pollRequests } from './poll-groups.ts';

describe('pollRequests', () => {
  it('answers many paths under one top-level folder with one list of their deepest common folder', () => {
    const paths = new Set(Array.from({ length: 200 }, (_, i) => `/bulk/team/secret-${i}`));
    expect(pollRequests({ paths, prefixes: new Set() })).toEqual([
      { kind: 'list', prefix: '/bulk/team/', paths: [...paths].sort(), prefixes: [] },
    ]);
  });

  it('reads a lone path by its metadata, and lists a folder that holds a followed prefix', () => {
    const requests = pollRequests({ paths: new Set(['/lone/secret', '/app/db/password']), prefixes: new Set(['/app/shared/']) });
    expect(requests).toEqual([
      { kind: 'list', prefix: '/app/', paths: ['/app/db/password'], prefixes: ['/app/shared/'] },
      { kind: 'metadata', path: '/lone/secret' },
    ]);
  });

  it('never makes a request for nothing', () => {
    expect(pollRequests({ paths: new Set(), prefixes: new Set() })).toEqual([]);
  });
});

describe('groupRequest', () => {
  it('reads a lone path, lists anything more, and asks nothing for nothing', () => {
    expect(groupRequest(['/app/a'], [])).toEqual({ kind: 'metadata', path: '/app/a' });
    expect(groupRequest(['/app/b/x', '/app/a/y'], [])).toEqual({ kind: 'list', prefix: '/app/', paths: ['/app/a/y', '/app/b/x'], prefixes: [] });
    expect(groupRequest([], ['/app/team/'])).toEqual({ kind: 'list', prefix: '/app/team/', paths: [], prefixes: ['/app/team/'] });
    expect(groupRequest([], [])).toBeUndefined();
  });
});

describe('pollGroupOf', () => {
  it.for([
    ['/app/db/password', '/app/'],
    ['/app/', '/app/'],
    ['/lone', '/lone'],
  ] as const)('of %s is %s', ([entry, group]) => {
    expect(pollGroupOf(entry)).toBe(group);
  });
});

describe('commonDirectory', () => {
  it.for([
    [['/a/b/c', '/a/b/d'], '/a/b/'],
    [['/a/b/c', '/a/x/d'], '/a/'],
    [['/a/b/', '/a/b/c/d'], '/a/b/'],
    [['/a', '/b'], '/'],
  ] as const)('of %j is %s', ([entries, expected]) => {
    expect(commonDirectory([...entries])).toBe(expected);
  });
});

describe('parseDuration', () => {
  it.for([
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250ms', 250],
  ] as const)('reads %s', ([text, ms]) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('refuses what is not a duration', () => {
    expect(() => parseDuration('5 minutes')).toThrow('not a duration');
  });
});
