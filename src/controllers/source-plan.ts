/**
Which version of which Thalassa secret a resource needs, decided with as few API calls as
possible: pinned versions are taken as they are; "latest" comes from the version catalog (kept
current by the poller), else from what the Secret already holds, and only for a brand-new source
is the current version fetched with the value itself (one reveal, no metadata call).
*/
import type { ThalassaSecretSpec } from '../api/v1alpha1/thalassa-secret.ts';
import { isSecretGone, remoteFailure } from './remote-failure.ts';
import type { ResolvedStore } from './store-resolver.ts';
import { reasons, SyncError } from './sync-error.ts';
import type { VersionCatalog } from './version-catalog.ts';

export interface SourceTarget {
  readonly path: string;
  /** The version to put in the Secret; undefined: the current one, learnt from the reveal. */
  readonly version: number | undefined;
  readonly pinned: boolean;
}

export interface SourcePlan {
  readonly data: readonly SourceTarget[];
  readonly dataFrom: readonly (readonly SourceTarget[])[];
}

export interface PlanContext {
  readonly store: ResolvedStore;
  readonly catalog: VersionCatalog;
  /** Versions the Secret holds now, by path. */
  readonly recorded: ReadonlyMap<string, number>;
  /**
  Keep what the Secret holds instead of taking the current versions (refreshPolicy OnChange between
  changes): a held path keeps its version and a prefix its members, whatever the catalog knows.
  */
  readonly followHeld?: boolean | undefined;
  /** Ask Thalassa for the current versions, past the catalog and the held ones (refreshPolicy CreatedOnce, which nothing polls). */
  readonly askCurrent?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export function allTargets(plan: SourcePlan): SourceTarget[] {
  return [...plan.data, ...plan.dataFrom.flat()];
}

export async function planSources(spec: ThalassaSecretSpec, context: PlanContext): Promise<SourcePlan> {
  const data = await Promise.all((spec.data ?? []).map(async (entry) => await targetFor(entry.path, entry.version, context)));
  const dataFrom = await Promise.all(
    (spec.dataFrom ?? []).map(async (entry) => {
      if (entry.path !== undefined) return [await targetFor(entry.path, entry.version, context)];
      const prefix = entry.pathPrefix ?? '/';
      const members = await membersOf(prefix, context);
      return await Promise.all(members.map(async (path) => await targetFor(path, undefined, context)));
    }),
  );
  return { data, dataFrom };
}

async function targetFor(path: string, pinned: number | undefined, context: PlanContext): Promise<SourceTarget> {
  if (pinned !== undefined) return { path, version: pinned, pinned: true };
  const { catalog, store, recorded } = context;
  const kept = context.followHeld ? recorded.get(path) : undefined;
  if (kept !== undefined) return { path, version: kept, pinned: false };
  if (context.askCurrent) return { path, version: undefined, pinned: false };
  const failure = catalog.failure(store.key, path);
  if (failure) throw failure;
  let known = catalog.current(store.key, path);
  if (known === 'missing') {
    // A list no longer shows it: confirm before acting, a deletion is not undone.
    await confirmExists(path, context);
    known = catalog.current(store.key, path);
  }
  const held = recorded.get(path);
  if (known !== undefined && known !== 'missing') {
    if (known.version === 0) {
      throw new SyncError(reasons.VersionDestroyed, `${path} has no active version left in Thalassa; the Secret keeps what it has`);
    }
    if (held !== undefined && known.version < held) {
      throw new SyncError(
        reasons.VersionDestroyed,
        `version ${held} of ${path} was destroyed; the current version is ${known.version}. The Secret keeps version ${held}; ` +
          `pin version ${known.version} to use it`,
      );
    }
    return { path, version: known.version, pinned: false };
  }
  return { path, version: held, pinned: false };
}

async function membersOf(prefix: string, context: PlanContext): Promise<string[]> {
  const { catalog, store, recorded, signal } = context;
  const held = [...recorded.keys()].filter((path) => path.startsWith(prefix));
  if (context.followHeld && held.length > 0) return held.sort();
  const failure = context.askCurrent ? undefined : catalog.failure(store.key, prefix);
  if (failure) throw failure;
  const known = context.askCurrent ? undefined : catalog.prefixMembers(store.key, prefix);
  if (known) return [...known.paths];
  if (held.length > 0 && !context.askCurrent) return held.sort();
  const listed = await store.client.list(prefix, { signal }).catch((error: unknown) => {
    throw remoteFailure(error, store.description);
  });
  catalog.recordList(store.key, prefix, listed.map((s) => ({ path: s.path, currentVersion: s.currentVersion, updatedAt: s.updatedAt })), {
    paths: [],
    prefixes: [prefix],
  });
  return catalog.prefixMembers(store.key, prefix)?.paths.slice() ?? [];
}

/** Throws RemoteSecretNotFound when the secret is gone; records its current version otherwise. */
export async function confirmExists(path: string, context: PlanContext): Promise<void> {
  const { store, catalog, signal } = context;
  try {
    const metadata = await store.client.getMetadata(path, { signal });
    catalog.setCurrent(store.key, path, metadata.currentVersion, metadata.updatedAt);
  } catch (error) {
    if (isSecretGone(error)) catalog.setMissing(store.key, path);
    throw remoteFailure(error, store.description);
  }
}

/**
Asks Thalassa again, past the catalog, whether every source of a resource is gone, before
deletionPolicy Delete acts: each path's metadata read must answer 404 and a list of the path must
not show it (another endpoint, so that one route answering 404 wrongly cannot speak for both), and
a list of each prefix must show no secret with an active version. Returns what shows a source is
still there (recorded in the catalog), or undefined when every one is confirmed gone; a failed
request throws, as remoteFailure says, and nothing is deleted.
*/
export async function confirmGone(paths: readonly string[], prefixes: readonly string[], context: PlanContext): Promise<string | undefined> {
  const { store, catalog, signal } = context;
  const fail = (error: unknown): never => {
    throw remoteFailure(error, store.description);
  };
  for (const path of paths) {
    const metadata = await store.client.getMetadata(path, { signal }).catch((error: unknown) => (isSecretGone(error) ? undefined : fail(error)));
    if (metadata) {
      catalog.setCurrent(store.key, path, metadata.currentVersion, metadata.updatedAt);
      return `a second request (metadata of ${path}) finds version ${metadata.currentVersion}`;
    }
    const listed = (await store.client.list(path, { signal }).catch(fail)).find((item) => item.path === path);
    if (listed) {
      catalog.setCurrent(store.key, path, listed.currentVersion, listed.updatedAt);
      return `a second request (a list of ${path}) shows it at version ${listed.currentVersion}`;
    }
  }
  for (const prefix of prefixes) {
    const listed = await store.client.list(prefix, { signal }).catch(fail);
    catalog.recordList(store.key, prefix, listed, { paths: [], prefixes: [prefix] });
    const active = listed.filter((item) => item.currentVersion > 0).length;
    if (active > 0) return `a second request (a list of ${prefix}) shows ${active} ${active === 1 ? 'secret' : 'secrets'}`;
  }
  return undefined;
}
