import { describe, expect, it } from 'vitest';
import type { ThalassaSecretStore } from '../api/v1alpha1/secret-store.ts';
import { ForbiddenError, NotFoundError, type SecretMetadata, type ThalassaClient } from '../thalassa/index.ts';
import { confirmGone, type PlanContext } from './source-plan.ts';
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
