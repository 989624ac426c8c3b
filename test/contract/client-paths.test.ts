/** Secret paths are checked before anything is sent: a bad path costs no request. */
import { describe, expect, it } from 'vitest';
import { InvalidPathError } from '../../src/thalassa/index.ts';
import type { ThalassaAdminClient } from '../support/thalassa-admin-client.ts';
import { kmsKey, organisation, region, rejectionOf, useEmulator } from './client-fixtures.ts';

const h = useEmulator();

const longPath = `/${'a'.repeat(512)}`;

const badPaths: readonly { readonly path: string; readonly problem: string }[] = [
  { path: '', problem: 'is empty' },
  { path: 'app/db', problem: 'must start with "/"' },
  { path: '/app//db', problem: 'must not contain "//"' },
  { path: '/app/db/', problem: 'must not end with "/"' },
  { path: '/app/db password', problem: 'contains " "' },
  { path: '/app/db?x=1', problem: 'contains "?"' },
  { path: '/app/d%62', problem: 'contains "%"' },
  { path: '/app/ü', problem: 'contains "ü"' },
  { path: '/app/db\n', problem: 'contains "\\n"' },
  { path: longPath, problem: 'is longer than 512 characters' },
  // URLs resolve "." and ".." segments (also percent-encoded): the request would name another secret.
  { path: '/app/../db', problem: 'must not contain a "." or ".." segment' },
  { path: '/app/./db', problem: 'must not contain a "." or ".." segment' },
  { path: '/app/..', problem: 'must not contain a "." or ".." segment' },
];

/** Every client method that takes a secret path (not a prefix). */
const operations: readonly { readonly name: string; readonly run: (client: ThalassaAdminClient, path: string) => Promise<unknown> }[] = [
  { name: 'getMetadata', run: async (c, p) => await c.getMetadata(p) },
  { name: 'getMetadata with versions', run: async (c, p) => await c.getMetadata(p, { includeVersions: true }) },
  { name: 'create', run: async (c, p) => await c.create({ path: p, kmsKeyIdentity: kmsKey, payload: { string: 'x' } }) },
  { name: 'setPolicy', run: async (c, p) => await c.setPolicy(p, null) },
  { name: 'addVersion', run: async (c, p) => await c.addVersion(p, { string: 'x' }) },
  { name: 'reveal', run: async (c, p) => await c.reveal(p) },
  { name: 'reveal a version', run: async (c, p) => await c.reveal(p, { version: 1 }) },
  { name: 'destroyVersion', run: async (c, p) => await c.destroyVersion(p, 1) },
  { name: 'delete', run: async (c, p) => await c.delete(p) },
];

describe.each(operations)('$name', ({ run }) => {
  it.each(badPaths)('rejects a path before sending: $problem', async ({ path, problem }) => {
    const error = await rejectionOf(run(h.client(), path), InvalidPathError, { path, retryable: false });
    expect(error.message).toContain(problem);
    expect(error.message).toMatch(/^invalid secret path "/);
    expect(h.emulator.counters().total).toBe(0);
  });
});

describe('prefixes for browse and list', () => {
  it.each([
    { path: '', problem: 'is empty' },
    { path: 'app/', problem: 'must start with "/"' },
    { path: '/app//', problem: 'must not contain "//"' },
    { path: '/app /', problem: 'contains " "' },
    { path: `${longPath}/`, problem: 'is longer than 512 characters' },
  ])('rejects "$path" before sending: $problem', async ({ path, problem }) => {
    const client = h.client();
    for (const call of [client.browse(path), client.list(path)]) {
      const error = await rejectionOf(call, InvalidPathError, { path });
      expect(error.message).toContain(problem);
    }
    expect(h.emulator.counters().total).toBe(0);
  });

  it('accepts the root and prefixes that end in "/"', async () => {
    h.emulator.putSecret({ organisation, region, path: '/app/x', secretString: 'x' });
    const client = h.client();
    expect((await client.browse('/')).prefixes).toEqual(['/app/']);
    expect(await client.list('/app/')).toHaveLength(1);
  });
});

describe('valid paths', () => {
  it('accepts every allowed character, and exactly 512 characters', async () => {
    const client = h.client();
    const allowed = '/Az09/_-.+/a.b/..c/d..';
    await client.create({ path: allowed, kmsKeyIdentity: kmsKey, payload: { string: 'x' } });
    expect((await client.getMetadata(allowed)).path).toBe(allowed);
    const longest = `/${'b'.repeat(511)}`;
    await client.create({ path: longest, kmsKeyIdentity: kmsKey, payload: { string: 'x' } });
    expect((await client.reveal(longest)).path).toBe(longest);
  });

  it('truncates a very long path in the message', async () => {
    const error = await rejectionOf(h.client().reveal(`/${'c'.repeat(600)}`), InvalidPathError);
    expect(error.message.length).toBeLessThan(200);
    expect(error.path).toHaveLength(601);
  });
});
