/**
The emulator's in-memory model. Organisations, principals and secrets refer to each other by
identity or name, never by object, so a record can be replaced by a re-seed without dangling links.
*/
import type { AccessPolicy } from '../thalassa/wire.ts';

export type Action = 'read' | 'list' | 'getSecretValue' | 'putSecretValue' | 'create' | 'delete' | 'update';
export type PermissionAction = Action | '*';
export type Feature = 'secrets' | 'kms';
export type KmsKeyStatus = 'active' | 'disabled';

export interface OrganisationRecord {
  readonly identity: string;
  slug: string | undefined;
  name: string;
  readonly features: Record<Feature, boolean>;
  readonly projects: Set<string>;
}

export interface RegionRecord {
  readonly slug: string;
  identity: string;
  name: string;
  kms: boolean;
}

export interface KmsKeyRecord {
  readonly identity: string;
  name: string;
  organisation: string;
  region: string;
  status: KmsKeyStatus;
}

export interface PermissionRecord {
  readonly actions: ReadonlySet<PermissionAction>;
  /** Exact paths or prefixes ending in `*`; empty means every path. */
  readonly resources: readonly string[];
}

export interface PrincipalRecord {
  readonly name: string;
  /** Organisation identity (never the slug). */
  readonly organisation: string;
  readonly permissions: readonly PermissionRecord[];
}

export interface AccessTokenRecord {
  readonly principal: string;
  /** Epoch milliseconds; undefined never expires. */
  readonly expiresAt: number | undefined;
}

export interface OidcClientRecord {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly principal: string;
}

export interface FederatedIdentityRecord {
  readonly serviceAccountId: string;
  readonly organisation: string;
  readonly principal: string;
  readonly subject: string | undefined;
  readonly audiences: readonly string[];
  readonly issuer: string | undefined;
  readonly publicKeyPem: string | undefined;
}

export type ValueFormat = 'string' | 'keyValue';

export type StoredValue =
  | { readonly format: 'string'; readonly bytes: Buffer }
  | { readonly format: 'keyValue'; readonly entries: Readonly<Record<string, string>> };

export interface VersionRecord {
  readonly version: number;
  readonly valueFormat: ValueFormat;
  /** Dropped when the version is destroyed, as the real service does with the ciphertext. */
  value: StoredValue | undefined;
  readonly createdAt: number;
  destroyedAt: number | undefined;
  lastAccessedAt: number | undefined;
}

/** Where a secret lives: its path is unique within one (organisation, project, region). */
export interface SecretScope {
  readonly organisation: string;
  readonly project: string | undefined;
  readonly region: string;
}

export interface SecretRecord {
  readonly scope: SecretScope;
  readonly path: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly kmsKeyIdentity: string;
  readonly createdAt: number;
  updatedAt: number;
  objectVersion: number;
  lastAccessedAt: number | undefined;
  accessPolicy: AccessPolicy | undefined;
  /** Ascending by version number. */
  readonly versions: VersionRecord[];
  /** Version numbers are never reused, even after the newest one is destroyed. */
  nextVersion: number;
}
