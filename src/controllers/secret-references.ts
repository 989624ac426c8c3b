/**
Where a pod spec names a Secret: volumes, projected volumes, env, envFrom and imagePullSecrets, as
JSON Pointers (RFC 6901). Used to point a workload at the next Secret of an immutable target, and
to tell whether anything still needs an earlier one before it is removed.
*/

export interface SecretReference {
  /** JSON Pointer of the field holding the Secret's name, from the pod spec. */
  readonly pointer: string;
  readonly name: string;
}

interface NamedRef {
  readonly name?: string;
}
interface Container {
  readonly env?: readonly { readonly valueFrom?: { readonly secretKeyRef?: NamedRef } }[];
  readonly envFrom?: readonly { readonly secretRef?: NamedRef }[];
}
export interface PodSpecLike {
  readonly volumes?: readonly {
    readonly secret?: { readonly secretName?: string };
    readonly projected?: { readonly sources?: readonly { readonly secret?: NamedRef }[] };
  }[];
  readonly containers?: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly imagePullSecrets?: readonly NamedRef[];
}

/** Every place `spec` names a Secret, in document order. */
export function secretReferences(spec: PodSpecLike | undefined): SecretReference[] {
  if (!spec) return [];
  const found: SecretReference[] = [];
  const add = (pointer: string, name: string | undefined) => {
    if (name) found.push({ pointer, name });
  };
  spec.volumes?.forEach((volume, v) => {
    add(`/volumes/${v}/secret/secretName`, volume.secret?.secretName);
    volume.projected?.sources?.forEach((source, s) => add(`/volumes/${v}/projected/sources/${s}/secret/name`, source.secret?.name));
  });
  for (const list of ['containers', 'initContainers'] as const) {
    spec[list]?.forEach((container, c) => {
      container.env?.forEach((env, e) => add(`/${list}/${c}/env/${e}/valueFrom/secretKeyRef/name`, env.valueFrom?.secretKeyRef?.name));
      container.envFrom?.forEach((from, e) => add(`/${list}/${c}/envFrom/${e}/secretRef/name`, from.secretRef?.name));
    });
  }
  spec.imagePullSecrets?.forEach((ref, i) => add(`/imagePullSecrets/${i}/name`, ref.name));
  return found;
}

export type JsonPatchOperation =
  | { readonly op: 'test' | 'replace' | 'add'; readonly path: string; readonly value: unknown };

/**
JSON Patch operations that point every reference to one of `from` at `to`, under `base` (the pod
spec's pointer in the workload). Each replace is preceded by a test of the old name, so that a
workload edited since it was read is refused by the server rather than patched at the wrong place.
*/
export function repointOperations(spec: PodSpecLike | undefined, base: string, from: ReadonlySet<string>, to: string): JsonPatchOperation[] {
  return secretReferences(spec)
    .filter((ref) => from.has(ref.name) && ref.name !== to)
    .flatMap((ref) => [
      { op: 'test' as const, path: `${base}${ref.pointer}`, value: ref.name },
      { op: 'replace' as const, path: `${base}${ref.pointer}`, value: to },
    ]);
}

/** An RFC 6901 reference token: `~` and `/` escaped. */
export function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
The operation that sets one annotation under `metadataPointer`, whether or not the metadata and its
annotations exist yet (JSON Patch cannot add into a map that is absent).
*/
export function annotationOperation(
  metadataPointer: string,
  metadata: { readonly annotations?: Readonly<Record<string, string>> } | undefined,
  key: string,
  value: string,
): JsonPatchOperation {
  if (metadata === undefined) return { op: 'add', path: metadataPointer, value: { annotations: { [key]: value } } };
  if (metadata.annotations === undefined) return { op: 'add', path: `${metadataPointer}/annotations`, value: { [key]: value } };
  return { op: 'add', path: `${metadataPointer}/annotations/${pointerToken(key)}`, value };
}
