import { describe, expect, it } from 'vitest';
import type { ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { ForbiddenError, NotFoundError, type SecretMetadata, type ThalassaClient } from '../thalassa/index.ts';
import { confirmGone, planSources, type PlanContext } from './source-plan.ts';
import { SyncError } from './sync-error.ts';
import { VersionCatalog } from './version-catalog.ts';

/** A store client that knows `secrets` (path: current version) and answers `failures` instead for some paths. */
function context(secrets: Record<string, number>, failures: Record<string, Error> = {}): { context: PlanContext; calls: string[]; catalog: VersionCatalog } {
  const calls: string[] = [];
  const gone = (path: string) => new NotFoundError({ operation: 'get', status: 404, serverMessage: `secret not found: ${path}`, path });
  const client = {
    getMetadata: (path: string) => {
      calls.push(`get ${path}`);
      const failure = failures[path];
      if (failure) return Promise.reject(failure);
      const version = secrets[path];
      return version === undefined ? Promise.reject(gone(path)) : Promise.resolve({ path, currentVersion: version } as SecretMetadata);
    },
    list: (prefix: string) => {
      calls.push(`list ${prefix}`);
      return Promise.resolve(Object.entries(secrets).filter(([path]) => path.startsWith(prefix)).map(([path, currentVersion]) => ({ path, currentVersion })));
    },
  } as unknown as ThalassaClient;
  const catalog = new VersionCatalog();
  const store = { key: 'store-key', description: 'ThalassaSecretStore/ns/s', store: {} as ThalassaSecretStore, client };
  return { context: { store, catalog, recorded: new Map() }, calls, catalog };
}

describe('confirmGone', () => {
  it('confirms only when each path answers 404 and a list of it does not show it, and each prefix lists nothing active', async () => {
    // /app/db-old only shares the prefix; a destroyed secret (version 0) under the prefix has nothing to sync.
    const { context: c, calls } = context({ '/app/db-old': 2, '/other/destroyed': 0 });
    expect(await confirmGone(['/app/db', '/app/cache'], ['/other/'], c)).toBeUndefined();
    expect(calls).toEqual(['get /app/db', 'list /app/db', 'get /app/cache', 'list /app/cache', 'list /other/']);
  });

  it('keeps the Secret when a fresh metadata read finds the secret, and records its version', async () => {
    const { context: c, catalog } = context({ '/app/db': 4 });
    expect(await confirmGone(['/app/db'], [], c)).toBe('a second request (metadata of /app/db) finds version 4');
    expect(catalog.current('store-key', '/app/db')).toMatchObject({ version: 4 });
  });

  it('keeps the Secret when the metadata read says 404 but a list shows the secret', async () => {
    const { context: c } = context({ '/app/db': 3 }, { '/app/db': new NotFoundError({ operation: 'get', status: 404, serverMessage: 'secret not found', path: '/app/db' }) });
    expect(await confirmGone(['/app/db'], [], c)).toBe('a second request (a list of /app/db) shows it at version 3');
  });

  it('keeps the Secret when a prefix still lists a secret', async () => {
    const { context: c } = context({ '/team/a': 1, '/team/b': 2 });
    expect(await confirmGone([], ['/team/'], c)).toBe('a second request (a list of /team/) shows 2 secrets');
  });

  it.for([
    ['a refused request', new ForbiddenError({ operation: 'get', status: 403, serverMessage: 'permission denied', path: '/app/db' }), 'PermissionDenied'],
    ['a 404 about the project, not the secret', new NotFoundError({ operation: 'get', status: 404, serverMessage: 'project not found: prj-1', path: '/app/db' }), 'InvalidStore'],
  ] as const)('throws on %s: nothing is confirmed', async ([, failure, reason]) => {
    const { context: c } = context({}, { '/app/db': failure });
    const error = await confirmGone(['/app/db'], [], c).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).reason).toBe(reason);
  });
});

describe('planSources under refreshPolicy', () => {
  const spec = { data: [{ key: 'db', path: '/app/db' }], dataFrom: [{ pathPrefix: '/team/' }] };

  it('OnChange between changes (followHeld): keeps the held versions and prefix members, whatever the catalog knows, asking nothing', async () => {
    const { context: c, calls, catalog } = context({ '/app/db': 5, '/team/a': 2, '/team/b': 1 });
    catalog.setCurrent('store-key', '/app/db', 5);
    const plan = await planSources(spec, { ...c, recorded: new Map([['/app/db', 3], ['/team/a', 1]]), followHeld: true });
    expect(plan.data).toEqual([{ path: '/app/db', version: 3, pinned: false }]);
    expect(plan.dataFrom).toEqual([[{ path: '/team/a', version: 1, pinned: false }]]);
    expect(calls).toEqual([]);
  });

  it('CreatedOnce (askCurrent): takes the current versions from Thalassa, past the held ones and the catalog', async () => {
    const { context: c, calls, catalog } = context({ '/app/db': 5, '/team/a': 2, '/team/b': 1 });
    // A catalog that is never refreshed for such a resource (nothing polls it) must not be trusted.
    catalog.recordList('store-key', '/team/', [{ path: '/team/a', currentVersion: 1 }], { paths: [], prefixes: ['/team/'] });
    const plan = await planSources(spec, { ...c, recorded: new Map([['/app/db', 3], ['/team/a', 1]]), askCurrent: true });
    // undefined: revealed at its current version.
    expect(plan.data).toEqual([{ path: '/app/db', version: undefined, pinned: false }]);
    expect(plan.dataFrom[0]?.map((t) => t.path)).toEqual(['/team/a', '/team/b']);
    expect(calls).toEqual(['list /team/']);
  });

  it('Periodic: trusts the catalog for the current version', async () => {
    const { context: c, calls, catalog } = context({ '/app/db': 5 });
    catalog.setCurrent('store-key', '/app/db', 4);
    const plan = await planSources({ data: [{ key: 'db', path: '/app/db' }] }, { ...c, recorded: new Map([['/app/db', 3]]) });
    expect(plan.data).toEqual([{ path: '/app/db', version: 4, pinned: false }]);
    expect(calls).toEqual([]);
  });
});
