/** Version bookkeeping on one secret: which version is current and how numbers advance. */
import type { SecretRecord, VersionRecord } from './records.ts';

/** The highest active version; undefined once every version is destroyed. */
export function currentVersion(secret: SecretRecord): VersionRecord | undefined {
  for (let index = secret.versions.length - 1; index >= 0; index -= 1) {
    const version = secret.versions[index];
    if (version !== undefined && version.destroyedAt === undefined) return version;
  }
  return undefined;
}

export function findVersion(secret: SecretRecord, number: number): VersionRecord | undefined {
  return secret.versions.find((version) => version.version === number);
}
