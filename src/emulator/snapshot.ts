/**
The persisted form of the whole model. Directory entries reuse the seed format (so restoring is
applying a seed); secrets keep their timestamps, counters and history, with string values as base64
because values are bytes.
*/
import { z } from 'zod';
import { accessPolicySchema } from '../thalassa/wire.ts';
import { applySeed } from './apply-seed.ts';
import { EmulatorInputError } from './input-error.ts';
import type { SecretRecord, VersionRecord } from './records.ts';
import { seedSchema, type EmulatorSeed } from './seed-schema.ts';
import type { EmulatorState } from './state.ts';
import { describeZodError } from './zod-message.ts';

const timestamp = z.iso.datetime({ offset: true });

const persistedVersionSchema = z.strictObject({
  version: z.int().positive(),
  valueFormat: z.enum(['string', 'keyValue']),
  createdAt: timestamp,
  destroyedAt: timestamp.optional(),
  lastAccessedAt: timestamp.optional(),
  secretStringBase64: z.base64().optional(),
  secretKeyValues: z.record(z.string(), z.string()).optional(),
});

const persistedSecretSchema = z.strictObject({
  organisation: z.string(),
  project: z.string().optional(),
  region: z.string(),
  path: z.string(),
  description: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  kmsKeyIdentity: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
  objectVersion: z.int().nonnegative(),
  lastAccessedAt: timestamp.optional(),
  accessPolicy: accessPolicySchema.optional(),
  nextVersion: z.int().positive(),
  versions: z.array(persistedVersionSchema),
});

export const stateFileFormat = 'thalassa-secrets-emulator/v1';

const persistedStateSchema = z.strictObject({
  format: z.literal(stateFileFormat),
  directory: seedSchema.omit({ secrets: true }),
  secrets: z.array(persistedSecretSchema),
});

type PersistedSecret = z.infer<typeof persistedSecretSchema>;
type PersistedVersion = z.infer<typeof persistedVersionSchema>;

const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const isoOrUndefined = (epochMs: number | undefined): string | undefined =>
  epochMs === undefined ? undefined : iso(epochMs);
const epochOrUndefined = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Date.parse(text);

function directorySnapshot(state: EmulatorState): EmulatorSeed {
  const { directory } = state;
  return {
    organisations: [...directory.organisations.values()].map((o) => ({
      identity: o.identity,
      ...(o.slug === undefined ? {} : { slug: o.slug }),
      name: o.name,
      features: { ...o.features },
      projects: [...o.projects],
    })),
    regions: [...directory.regions.values()].map((r) => ({ ...r })),
    kmsKeys: [...directory.kmsKeys.values()].map((k) => ({ ...k })),
    principals: [...directory.principals.values()].map((p) => ({
      name: p.name,
      organisation: p.organisation,
      permissions: p.permissions.map((permission) => ({
        actions: [...permission.actions],
        resources: [...permission.resources],
      })),
    })),
    personalAccessTokens: [...directory.personalAccessTokens].map(([token, principal]) => ({ token, principal })),
    accessTokens: [...directory.accessTokens]
      .filter(([, record]) => record.expiresAt === undefined || record.expiresAt > state.now())
      .map(([token, record]) => ({
        token,
        principal: record.principal,
        ...(record.expiresAt === undefined ? {} : { expiresAt: iso(record.expiresAt) }),
      })),
    oidcClients: [...directory.oidcClients.values()].map((c) => ({ ...c })),
    federatedIdentities: directory.federatedIdentities.map((f) => ({ ...f, audiences: [...f.audiences] })),
  };
}

function versionSnapshot(version: VersionRecord): PersistedVersion {
  const value = version.value;
  return {
    version: version.version,
    valueFormat: version.valueFormat,
    createdAt: iso(version.createdAt),
    destroyedAt: isoOrUndefined(version.destroyedAt),
    lastAccessedAt: isoOrUndefined(version.lastAccessedAt),
    secretStringBase64: value?.format === 'string' ? value.bytes.toString('base64') : undefined,
    secretKeyValues: value?.format === 'keyValue' ? { ...value.entries } : undefined,
  };
}

function secretSnapshot(secret: SecretRecord): PersistedSecret {
  return {
    organisation: secret.scope.organisation,
    project: secret.scope.project,
    region: secret.scope.region,
    path: secret.path,
    description: secret.description,
    labels: { ...secret.labels },
    annotations: { ...secret.annotations },
    kmsKeyIdentity: secret.kmsKeyIdentity,
    createdAt: iso(secret.createdAt),
    updatedAt: iso(secret.updatedAt),
    objectVersion: secret.objectVersion,
    lastAccessedAt: isoOrUndefined(secret.lastAccessedAt),
    accessPolicy: secret.accessPolicy,
    nextVersion: secret.nextVersion,
    versions: secret.versions.map(versionSnapshot),
  };
}

/** The state file's text. Undefined fields vanish in JSON.stringify. */
export function serializeState(state: EmulatorState): string {
  return JSON.stringify({
    format: stateFileFormat,
    directory: directorySnapshot(state),
    secrets: [...state.secrets.all()].map(secretSnapshot),
  });
}

function restoreVersion(version: PersistedVersion): VersionRecord {
  let value: VersionRecord['value'];
  if (version.secretKeyValues !== undefined) value = { format: 'keyValue', entries: version.secretKeyValues };
  else if (version.secretStringBase64 !== undefined) {
    value = { format: 'string', bytes: Buffer.from(version.secretStringBase64, 'base64') };
  }
  return {
    version: version.version,
    valueFormat: version.valueFormat,
    value: version.destroyedAt === undefined ? value : undefined,
    createdAt: Date.parse(version.createdAt),
    destroyedAt: epochOrUndefined(version.destroyedAt),
    lastAccessedAt: epochOrUndefined(version.lastAccessedAt),
  };
}

function restoreSecret(entry: PersistedSecret): SecretRecord {
  return {
    scope: { organisation: entry.organisation, project: entry.project, region: entry.region },
    path: entry.path,
    description: entry.description,
    labels: entry.labels,
    annotations: entry.annotations,
    kmsKeyIdentity: entry.kmsKeyIdentity,
    createdAt: Date.parse(entry.createdAt),
    updatedAt: Date.parse(entry.updatedAt),
    objectVersion: entry.objectVersion,
    lastAccessedAt: epochOrUndefined(entry.lastAccessedAt),
    accessPolicy: entry.accessPolicy,
    versions: entry.versions.map(restoreVersion),
    nextVersion: entry.nextVersion,
  };
}

/** Loads a state file's text into an empty model. */
export function restoreState(state: EmulatorState, text: string): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EmulatorInputError('state file is not valid JSON');
  }
  const parsed = persistedStateSchema.safeParse(json);
  if (!parsed.success) throw new EmulatorInputError(`invalid state file: ${describeZodError(parsed.error)}`);
  applySeed(state, parsed.data.directory);
  for (const entry of parsed.data.secrets) state.secrets.add(restoreSecret(entry));
}
