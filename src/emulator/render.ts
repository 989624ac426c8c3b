/** The JSON shapes the API answers with (wire reference §5.1 and §5.6). */
import type { Directory } from './directory.ts';
import type { SecretRecord, VersionRecord } from './records.ts';
import { currentVersion } from './secret-versions.ts';

export const kmsKeyType = 'aes256-gcm96';

function timestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function renderVersion(version: VersionRecord, current: VersionRecord | undefined): Record<string, unknown> {
  return {
    version: version.version,
    status: version.destroyedAt === undefined ? 'active' : 'destroyed',
    ...(version === current ? { stage: 'current' } : {}),
    valueFormat: version.valueFormat,
    createdAt: timestamp(version.createdAt),
    ...(version.destroyedAt === undefined ? {} : { destroyedAt: timestamp(version.destroyedAt) }),
    ...(version.lastAccessedAt === undefined ? {} : { lastAccessedAt: timestamp(version.lastAccessedAt) }),
  };
}

export function renderMetadata(
  secret: SecretRecord,
  directory: Directory,
  includeVersions: boolean,
): Record<string, unknown> {
  const key = directory.kmsKeys.get(secret.kmsKeyIdentity);
  const region = directory.regions.get(secret.scope.region);
  const current = currentVersion(secret);
  return {
    path: secret.path,
    description: secret.description,
    labels: secret.labels,
    annotations: secret.annotations,
    createdAt: timestamp(secret.createdAt),
    updatedAt: timestamp(secret.updatedAt),
    kmsKey: {
      identity: secret.kmsKeyIdentity,
      name: key?.name ?? secret.kmsKeyIdentity,
      slug: key?.name ?? secret.kmsKeyIdentity,
      keyType: kmsKeyType,
      status: key?.status ?? 'active',
    },
    currentVersion: current?.version ?? 0,
    objectVersion: secret.objectVersion,
    lastAccessedAt: secret.lastAccessedAt === undefined ? null : timestamp(secret.lastAccessedAt),
    region: {
      identity: region?.identity ?? secret.scope.region,
      slug: secret.scope.region,
      name: region?.name ?? secret.scope.region,
    },
    ...(secret.accessPolicy === undefined ? {} : { accessPolicy: secret.accessPolicy }),
    ...(includeVersions ? { versions: secret.versions.map((version) => renderVersion(version, current)) } : {}),
  };
}

export function renderRevealedValue(secret: SecretRecord, version: VersionRecord): Record<string, unknown> {
  const value = version.value;
  return {
    path: secret.path,
    version: version.version,
    ...(value?.format === 'keyValue'
      ? { secretKeyValues: value.entries }
      : { secretString: value?.bytes.toString('base64') ?? '' }),
    kmsKeyIdentity: secret.kmsKeyIdentity,
    kmsKeyVersion: '1',
  };
}
