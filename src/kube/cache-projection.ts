/**
What an informer keeps of each object. A cache of 10,000 ThalassaSecrets and 10,000 managed
Secrets' metadata was 29 MiB in a heap snapshot, about 1.5 KB an object, and most of it was not
data the controllers read:

- `delete`-ing managedFields from a parsed object turns its `metadata` into a dictionary-mode
  object (a hash table of about 450 bytes, against about 100 for the same fields in fast mode):
  9.8 MiB of property tables at 10,000. Copying the fields that are kept into a fresh object
  avoids it.
- JSON.parse gives every object its own copy of every string: the namespace, `apiVersion`,
  `kind`, label values, condition types and reasons, timestamps, the store annotation, and the
  ThalassaSecret's uid (again in its Secret's ownerReference and `created-for` annotation) and
  paths (in spec and status). Short strings go through a bounded `Interner`, so equal strings in
  different objects are one string.

The projection keeps the metadata fields of `KubeObject` (what the controllers read) and every
other field as it is (spec and status are read whole: the reconciler compares status with what it
would write). It drops managedFields, creationTimestamp, finalizers and kubectl's
last-applied-configuration copy of the spec, which nothing reads.
*/
import type { KubeObject } from './list-watch.ts';

/** kubectl's copy of the last applied spec, in an annotation: often as large as the object. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Strings longer than this are not interned: long strings are rarely repeated (messages, hashes of data). */
const maxInternedLength = 256;

/**
Equal strings made one, within a bound. Two generations of at most `generationSize` strings each:
a string found in the older one moves to the newer, and when the newer is full the older is
dropped. So the strings in use by many cached objects stay (namespaces, kinds, store names), and
the interner never holds more than twice `generationSize` strings of its own; a string that was
dropped is only no longer shared with the objects that arrive later.
*/
export class Interner {
  readonly #generationSize: number;
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  constructor(generationSize = 8192) {
    this.#generationSize = generationSize;
  }

  intern(value: string): string {
    if (value.length > maxInternedLength) return value;
    const current = this.#current.get(value);
    if (current !== undefined) return current;
    const older = this.#previous.get(value);
    if (older !== undefined) this.#previous.delete(value);
    const kept = older ?? value;
    if (this.#current.size >= this.#generationSize) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(kept, kept);
    return kept;
  }

  /** Strings held (for tests). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}

/** One interner for every cache: a ThalassaSecret's uid, namespace and paths recur in its Secret's metadata. */
const sharedInterner = new Interner();

/** A deep copy of parsed JSON with its strings interned; fresh objects, so in fast mode. */
export function compactJson(value: unknown, interner: Interner = sharedInterner): unknown {
  if (typeof value === 'string') return interner.intern(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => compactJson(item, interner));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = compactJson(item, interner);
  return copy;
}

function compactStrings(map: Record<string, string> | undefined, interner: Interner, omit?: string): Record<string, string> | undefined {
  if (map === undefined) return undefined;
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) if (key !== omit) copy[interner.intern(key)] = interner.intern(value);
  return copy;
}

export interface ProjectionOptions {
  /** Also drop `generation` (managed Secrets and other metadata-only objects: nothing reads it there). */
  readonly dropGeneration?: boolean | undefined;
  readonly interner?: Interner | undefined;
}

/**
The cached form of `object` (see the module comment). The kept fields of `metadata` are added in
one order and absent ones are left out (not set to undefined, and never `delete`d, which would turn
the object into dictionary mode again), so that cached objects share V8 hidden classes.
*/
export function projectForCache<T extends KubeObject>(object: T, options: ProjectionOptions = {}): T {
  const interner = options.interner ?? sharedInterner;
  const source = object.metadata;
  const metadata: { -readonly [K in keyof KubeObject['metadata']]: KubeObject['metadata'][K] } = { name: interner.intern(source.name) };
  if (source.namespace !== undefined) metadata.namespace = interner.intern(source.namespace);
  if (source.uid !== undefined) metadata.uid = interner.intern(source.uid);
  if (source.resourceVersion !== undefined) metadata.resourceVersion = source.resourceVersion;
  if (source.generation !== undefined && !options.dropGeneration) metadata.generation = source.generation;
  const labels = compactStrings(source.labels, interner);
  if (labels !== undefined) metadata.labels = labels;
  const annotations = compactStrings(source.annotations, interner, lastAppliedAnnotation);
  if (annotations !== undefined) metadata.annotations = annotations;
  if (source.deletionTimestamp !== undefined) metadata.deletionTimestamp = source.deletionTimestamp;
  if (source.ownerReferences !== undefined) metadata.ownerReferences = compactJson(source.ownerReferences, interner) as typeof source.ownerReferences;
  const projected: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) projected[key] = key === 'metadata' ? metadata : compactJson(value, interner);
  return projected as T;
}
