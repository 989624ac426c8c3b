/**
The Kubernetes Secret a ThalassaSecret writes: its resolved settings, who owns an existing one,
which of its fields this operator manages, and the object to apply.
*/
import type { V1ManagedFieldsEntry, V1Secret } from '@kubernetes/client-node';
import { apiVersion } from '../api/v1alpha1/common.ts';
import type { ThalassaSecret } from '../api/v1alpha1/thalassa-secret.ts';
import {
  dataHashAnnotation,
  fieldManager,
  managedByLabel,
  managedByValue,
  ownerAnnotation,
  rolloutDueAnnotation,
  shapeHashAnnotation,
  storeAnnotation,
  syncedVersionsAnnotation,
} from './secret-metadata.ts';

export interface TargetSettings {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly creationPolicy: 'Owner' | 'Orphan' | 'Merge';
  readonly deletionPolicy: 'Retain' | 'Delete';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The spec's target with the documented defaults applied (in code, never on the server). */
export function targetSettings(resource: ThalassaSecret): TargetSettings {
  const target = resource.spec.target;
  return {
    namespace: resource.metadata.namespace ?? '',
    name: target?.name ?? resource.metadata.name,
    type: target?.type ?? 'Opaque',
    creationPolicy: target?.creationPolicy ?? 'Owner',
    deletionPolicy: target?.deletionPolicy ?? 'Retain',
    labels: target?.labels ?? {},
    annotations: target?.annotations ?? {},
  };
}

export function ownerKeyOf(resource: ThalassaSecret): string {
  return `${resource.metadata.namespace ?? ''}/${resource.metadata.name}`;
}

export type Ownership =
  /** This resource wrote it. */
  | { readonly kind: 'ours' }
  /** Another ThalassaSecret writes it. */
  | { readonly kind: 'other-thalassa-secret'; readonly owner: string }
  /** Someone else's Secret (created by hand, by Helm, by another controller). */
  | { readonly kind: 'foreign'; readonly controller?: string | undefined };

export function ownershipOf(secret: V1Secret, resource: ThalassaSecret): Ownership {
  const owner = secret.metadata?.annotations?.[ownerAnnotation];
  if (owner === ownerKeyOf(resource)) return { kind: 'ours' };
  if (owner !== undefined) return { kind: 'other-thalassa-secret', owner };
  const controller = secret.metadata?.ownerReferences?.find((ref) => ref.controller);
  return { kind: 'foreign', controller: controller ? `${controller.kind}/${controller.name}` : undefined };
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
      labels: { ...(merge ? {} : settings.labels), [managedByLabel]: managedByValue },
      annotations: {
        ...(merge ? {} : settings.annotations),
        [ownerAnnotation]: ownerKeyOf(resource),
        [syncedVersionsAnnotation]: input.syncedVersions,
        [dataHashAnnotation]: input.dataHash,
        [shapeHashAnnotation]: input.shapeHash,
        [storeAnnotation]: input.store,
        ...(input.rolloutDue ? { [rolloutDueAnnotation]: input.rolloutDue } : {}),
      },
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    ...(merge ? {} : { type: settings.type }),
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
