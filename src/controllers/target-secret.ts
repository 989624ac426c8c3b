/**
The Kubernetes Secret a ThalassaSecret writes: its resolved settings, who owns an existing one,
which of its fields this operator manages, and the object to apply.
*/
import type { V1ManagedFieldsEntry, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { apiVersion } from '../api/v1alpha1/common.ts';
import { protectedSecretTypes, type ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import {
  createdForAnnotation,
  dataHashAnnotation,
  fieldManager,
  managedByLabel,
  managedByValue,
  managedLabel,
  managedValue,
  ownerAnnotation,
  refreshedForAnnotation,
  rolloutDueAnnotation,
  shapeHashAnnotation,
  storeAnnotation,
  syncedVersionsAnnotation,
  hashJson,
} from './secret-metadata.ts';

export interface TargetSettings {
  readonly namespace: string;
  /** The Secret written now: the target's name, or under `hashedNames` the current generation's (see generationName). */
  readonly name: string;
  /** target.name, or the resource's name. */
  readonly baseName: string;
  readonly type: string;
  readonly creationPolicy: 'Owner' | 'Orphan' | 'Merge';
  readonly deletionPolicy: 'Retain' | 'Delete';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly immutable: boolean;
  /**
  target.immutable with rolloutRestartTargets: every content is written to a Secret of its own,
  named after its content, and the workloads are moved to it; see generationName.
  */
  readonly hashedNames: boolean;
}

/** The spec's target with the documented defaults applied (in code, never on the server). */
export function targetSettings(resource: ThalassaSecret): TargetSettings {
  const target = resource.spec.target;
  const baseName = target?.name ?? resource.metadata.name;
  const immutable = target?.immutable === true;
  const hashedNames = immutable && (resource.spec.rolloutRestartTargets?.length ?? 0) > 0;
  const current = resource.status?.secretName;
  return {
    namespace: resource.metadata.namespace ?? '',
    name: hashedNames && current !== undefined && isGenerationOf(current, baseName) ? current : baseName,
    baseName,
    type: target?.type ?? target?.template?.type ?? 'Opaque',
    creationPolicy: target?.creationPolicy ?? 'Owner',
    deletionPolicy: target?.deletionPolicy ?? 'Retain',
    labels: target?.labels ?? {},
    annotations: target?.annotations ?? {},
    immutable,
    hashedNames,
  };
}

const generationHashLength = 10;

/**
The name of the Secret that holds one content under `hashedNames`: `<base>-<hash of type and data>`,
as kustomize names generated Secrets. The same content always gets the same name, so a replayed
sync finds the Secret it wrote; the base is cut so that the whole stays a valid 253-character name.
*/
export function generationName(baseName: string, type: string, dataHash: string): string {
  return `${generationBase(baseName)}-${hashJson({ type, dataHash }).slice(0, generationHashLength)}`;
}

function generationBase(baseName: string): string {
  return baseName.slice(0, 253 - generationHashLength - 1).replace(/[-.]+$/, '');
}

function isGenerationOf(name: string, baseName: string): boolean {
  const base = generationBase(baseName);
  return name.length === base.length + 1 + generationHashLength && name.startsWith(`${base}-`) && /^[0-9a-f]+$/.test(name.slice(base.length + 1));
}

export function ownerKeyOf(resource: ThalassaSecret): string {
  return `${resource.metadata.namespace ?? ''}/${resource.metadata.name}`;
}

export type Ownership =
  /**
  The operator created it for this resource, or for an earlier resource of the same namespace and
  name that is gone (the same key now holds another UID): nobody else's data is in it.
  */
  | { readonly kind: 'ours' }
  /** This resource merges its keys into a Secret that someone else created. */
  | { readonly kind: 'merged' }
  /** Another ThalassaSecret writes it. */
  | { readonly kind: 'other-thalassa-secret'; readonly owner: string }
  /** Someone else's Secret (created by hand, by Helm, by another controller). */
  | { readonly kind: 'foreign'; readonly controller?: string | undefined };

/**
Whose Secret this is, proven by what only the operator's own creation leaves: the UID-bound
created-for marker (or, for a Secret written before that marker existed, the `type` field owned by
this operator's field manager alone, which a create or an Owner/Orphan apply sets and Merge never
does). The owner annotation alone only says who writes into it.
*/
export function ownershipOf(secret: V1Secret, resource: ThalassaSecret): Ownership {
  const writer = secret.metadata?.annotations?.[ownerAnnotation];
  if (writer !== undefined && writer !== ownerKeyOf(resource)) return { kind: 'other-thalassa-secret', owner: writer };
  if (writer !== undefined) return createdByOperator(secret) ? { kind: 'ours' } : { kind: 'merged' };
  const controller = controllerOf(secret);
  return { kind: 'foreign', controller: controller ? `${controller.kind}/${controller.name}` : undefined };
}

function createdByOperator(secret: V1Secret): boolean {
  if (secret.metadata?.annotations?.[createdForAnnotation] !== undefined) return true;
  const typeOwners = (secret.metadata?.managedFields ?? []).filter((entry) => ownsField(entry, 'f:type'));
  return typeOwners.length > 0 && typeOwners.every((entry) => entry.manager === fieldManager);
}

function controllerOf(secret: V1Secret): V1OwnerReference | undefined {
  return secret.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}


/**
Why Merge must not write into `secret`, if it must not: Kubernetes manages its content, or another
object controls it (its controller would undo or fight every write).
*/
export function mergeRefusal(secret: V1Secret, resource: ThalassaSecret): string | undefined {
  const name = secret.metadata?.name ?? '';
  if (secret.type !== undefined && protectedSecretTypes.includes(secret.type)) {
    return `Secret ${name} is of type ${secret.type}, whose content Kubernetes manages; creationPolicy Merge never writes into it`;
  }
  const controller = controllerOf(secret);
  if (controller && controller.uid !== resource.metadata.uid) {
    return (
      `Secret ${name} is controlled by ${controller.kind}/${controller.name}, which would undo or fight every write; ` +
      'creationPolicy Merge never writes into a Secret another controller manages'
    );
  }
  return undefined;
}

function ownsField(entry: V1ManagedFieldsEntry, field: string): boolean {
  const fields = entry.fieldsV1 as Record<string, unknown> | undefined;
  return fields !== undefined && field in fields;
}

/** Fields under `f:data` / `f:metadata.f:labels` / `f:metadata.f:annotations` that a manager entry owns. */
function ownedKeys(entry: V1ManagedFieldsEntry, path: readonly string[]): string[] {
  let node: unknown = entry.fieldsV1;
  for (const step of path) node = (node as Record<string, unknown> | undefined)?.[step];
  if (typeof node !== 'object' || node === null) return [];
  return Object.keys(node)
    .filter((k) => k.startsWith('f:'))
    .map((k) => k.slice(2));
}

export interface ManagedKeys {
  readonly data: ReadonlySet<string>;
  readonly labels: ReadonlySet<string>;
  readonly annotations: ReadonlySet<string>;
}

/** What this operator's field manager owns in `secret`, whether it wrote by create (Update) or apply. */
export function managedKeys(secret: V1Secret): ManagedKeys {
  const ours = (secret.metadata?.managedFields ?? []).filter((entry) => entry.manager === fieldManager);
  const collect = (path: string[]) => new Set(ours.flatMap((entry) => ownedKeys(entry, path)));
  return {
    data: collect(['f:data']),
    labels: collect(['f:metadata', 'f:labels']),
    annotations: collect(['f:metadata', 'f:annotations']),
  };
}

/** What this operator's field manager owns in `secret` and no other manager owns too. */
export function managedKeysSolely(secret: V1Secret): ManagedKeys {
  const ours = managedKeys(secret);
  const others = (secret.metadata?.managedFields ?? []).filter((entry) => entry.manager !== fieldManager);
  const only = (keys: ReadonlySet<string>, path: string[]) => {
    const shared = new Set(others.flatMap((entry) => ownedKeys(entry, path)));
    return new Set([...keys].filter((key) => !shared.has(key)));
  };
  return {
    data: only(ours.data, ['f:data']),
    labels: only(ours.labels, ['f:metadata', 'f:labels']),
    annotations: only(ours.annotations, ['f:metadata', 'f:annotations']),
  };
}

/** Whether another manager (kubectl edit, another controller) changed one of the keys we own. */
export function keysTakenOver(secret: V1Secret, keys: Iterable<string>): string[] {
  const wanted = new Set(keys);
  const others = (secret.metadata?.managedFields ?? []).filter((entry) => entry.manager !== fieldManager);
  return [...new Set(others.flatMap((entry) => ownedKeys(entry, ['f:data'])).filter((key) => wanted.has(key)))];
}

export interface DesiredSecretInput {
  readonly resource: ThalassaSecret;
  readonly settings: TargetSettings;
  readonly data: ReadonlyMap<string, Buffer>;
  readonly syncedVersions: string;
  readonly dataHash: string;
  readonly shapeHash: string;
  readonly rolloutDue?: string | undefined;
  /** See storeAnnotation. */
  readonly store: string;
  /** See refreshedForAnnotation; only under refreshPolicy OnChange. */
  readonly refreshedFor?: string | undefined;
  /** Rendered from target.template.metadata; target.labels and target.annotations win on the same key. */
  readonly templatedLabels?: Readonly<Record<string, string>> | undefined;
  readonly templatedAnnotations?: Readonly<Record<string, string>> | undefined;
}

/**
The apply configuration: every field this operator manages and nothing else. Under Merge it
carries no type and no ownerReference, because the Secret is someone else's.
*/
export function desiredSecret(input: DesiredSecretInput): V1Secret {
  const { resource, settings } = input;
  const merge = settings.creationPolicy === 'Merge';
  const ownerReferences =
    settings.creationPolicy === 'Owner' && resource.metadata.uid
      ? [
          {
            apiVersion,
            kind: 'ThalassaSecret',
            name: resource.metadata.name,
            uid: resource.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]
      : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: settings.name,
      namespace: settings.namespace,
      labels: {
        ...(merge ? {} : { ...input.templatedLabels, ...settings.labels, [managedByLabel]: managedByValue }),
        [managedLabel]: managedValue,
      },
      annotations: {
        ...(merge ? {} : { ...input.templatedAnnotations, ...settings.annotations }),
        [ownerAnnotation]: ownerKeyOf(resource),
        ...(merge ? {} : { [createdForAnnotation]: resource.metadata.uid ?? '' }),
        [syncedVersionsAnnotation]: input.syncedVersions,
        [dataHashAnnotation]: input.dataHash,
        [shapeHashAnnotation]: input.shapeHash,
        [storeAnnotation]: input.store,
        ...(input.rolloutDue ? { [rolloutDueAnnotation]: input.rolloutDue } : {}),
        ...(input.refreshedFor ? { [refreshedForAnnotation]: input.refreshedFor } : {}),
      },
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    ...(merge ? {} : { type: settings.type }),
    ...(settings.immutable ? { immutable: true } : {}),
    data: Object.fromEntries([...input.data].map(([key, value]) => [key, value.toString('base64')])),
  };
}

/** Data of `secret` restricted to `keys`, decoded, for hashing. */
export function dataOf(secret: V1Secret, keys?: ReadonlySet<string>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    if (!keys || keys.has(key)) out.set(key, Buffer.from(value, 'base64'));
  }
  return out;
}
