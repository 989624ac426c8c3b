/**
Paginated lists and streaming watches over the Kubernetes API. Both can ask for metadata only
(PartialObjectMetadata): caching whole Secrets is what makes secret operators run out of memory.
*/
import { createInterface } from 'node:readline';
import { KubeApiError } from './errors.ts';
import type { KubeClient } from './kube-client.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

export interface ListWatchOptions {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Only metadata (PartialObjectMetadata): no data, no spec. */
  readonly metadataOnly?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

const metadataListAccept = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const metadataAccept = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Objects per list page: a page of ThalassaSecrets as the API server sends them (managedFields included) is about 3 KB an object. */
export const defaultPageSize = 500;

/**
Lists every object at `path`, one page at a time: the caller keeps what it needs of a page before
the next is requested, so a 10,000-object list is never held as a whole (neither its JSON nor its
objects). Every page is of the same snapshot (the continue token pins its resource version); the
last page's resource version is the list's.
*/
export async function* listPages<T extends KubeObject>(
  client: KubeClient,
  path: string,
  options: ListWatchOptions & { readonly pageSize?: number } = {},
): AsyncGenerator<ListResult<T>, void, undefined> {
  let continueToken: string | undefined;
  let resourceVersion = '';
  do {
    const page = await client.get<{ items: T[] | null; metadata: { resourceVersion?: string; continue?: string } }>(path, {
      query: {
        limit: String(options.pageSize ?? defaultPageSize),
        continue: continueToken,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      accept: options.metadataOnly ? metadataListAccept : 'application/json',
      signal: options.signal,
    });
    continueToken = page.metadata.continue === '' ? undefined : page.metadata.continue;
    resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    yield { items: page.items ?? [], resourceVersion };
  } while (continueToken);
}

/** Lists every object at `path` into one array (for callers that need them all at once). */
export async function listAll<T extends KubeObject>(client: KubeClient, path: string, options: ListWatchOptions & { readonly pageSize?: number } = {}): Promise<ListResult<T>> {
  const items: T[] = [];
  let resourceVersion = '';
  for await (const page of listPages<T>(client, path, options)) {
    for (const item of page.items) items.push(item);
    resourceVersion = page.resourceVersion;
  }
  return { items, resourceVersion };
}

export interface WatchOptions extends ListWatchOptions {
  readonly resourceVersion: string;
  readonly timeoutSeconds: number;
  /** The stream is abandoned when nothing (not even a bookmark) arrives for this long. */
  readonly inactivityMs: number;
}

/**
Streams watch events until the server ends the watch (resolves), or it fails (rejects with a
KubeApiError, e.g. 410 when the resource version is too old). An ERROR event in the stream
rejects with its Status code.
*/
export async function watch(
  client: KubeClient,
  path: string,
  options: WatchOptions,
  onEvent: (type: Exclude<WatchEventType, 'ERROR'>, object: KubeObject) => void,
): Promise<void> {
  const controller = new AbortController();
  const abortWith = (reason: unknown) => {
    controller.abort(reason);
  };
  options.signal?.addEventListener('abort', () => abortWith(options.signal?.reason), { once: true });
  let inactivity: NodeJS.Timeout | undefined;
  const armInactivity = () => {
    clearTimeout(inactivity);
    inactivity = setTimeout(() => abortWith(new KubeApiError(0, 'Timeout', 'watch inactive')), options.inactivityMs);
    inactivity.unref();
  };
  armInactivity();
  try {
    const input = await client.stream(path, {
      query: {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(options.timeoutSeconds),
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      accept: options.metadataOnly ? metadataAccept : 'application/json',
      signal: controller.signal,
    });
    // Aborting the request (stop, inactivity, the finally below) errors the stream after the loop
    // may have ended; a broken connection simply ends the stream, and the caller watches again.
    input.on('error', () => undefined);
    const lines = createInterface({ input, crlfDelay: Infinity });
    // readline re-emits the input's errors; unheard once the loop is over, they would crash the process.
    lines.on('error', () => undefined);
    for await (const line of lines) {
      armInactivity();
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as { type: WatchEventType; object: KubeObject & { code?: number; reason?: string; message?: string } };
      if (event.type === 'ERROR') {
        const status = event.object;
        throw new KubeApiError(status.code ?? 500, status.reason, status.message ?? 'watch error');
      }
      onEvent(event.type, event.object);
    }
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof KubeApiError) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(inactivity);
    controller.abort();
  }
}
