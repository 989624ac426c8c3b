/**
The emulator's whole model plus the clock. Every secret mutation goes through here so that
`objectVersion`, `updatedAt` and persistence cannot be forgotten by one endpoint.
*/
import type { AccessPolicy } from '../thalassa/wire.ts';
import { policyOrNone } from './access-policy.ts';
import { Directory } from './directory.ts';
import type { SecretRecord, SecretScope, StoredValue, VersionRecord } from './records.ts';
import { SecretStore } from './secret-store.ts';
import { findVersion } from './secret-versions.ts';

export interface NewSecret {
  readonly scope: SecretScope;
  readonly path: string;
  readonly description?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly kmsKeyIdentity: string;
  readonly accessPolicy?: AccessPolicy | null | undefined;
}

export type DestroyOutcome = 'destroyed' | 'alreadyDestroyed' | 'notFound';

export class EmulatorState {
  readonly directory = new Directory();
  readonly secrets = new SecretStore();
  readonly #clock: () => number;
  readonly #listeners: (() => void)[] = [];

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock();
  }

  /** Called after every change to the model (used by persistence). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Creates the secret without versions; callers add version 1 (or the seeded history) right after. */
  createSecret(input: NewSecret): SecretRecord {
    const now = this.now();
    const secret: SecretRecord = {
      scope: input.scope,
      path: input.path,
      description: input.description ?? '',
      labels: { ...input.labels },
      annotations: { ...input.annotations },
      kmsKeyIdentity: input.kmsKeyIdentity,
      createdAt: now,
      updatedAt: now,
      objectVersion: 0,
      lastAccessedAt: undefined,
      accessPolicy: policyOrNone(input.accessPolicy),
      versions: [],
      nextVersion: 1,
    };
    this.secrets.add(secret);
    this.changed();
    return secret;
  }

  addVersion(secret: SecretRecord, value: StoredValue): VersionRecord {
    const now = this.now();
    const version: VersionRecord = {
      version: secret.nextVersion,
      valueFormat: value.format,
      value,
      createdAt: now,
      destroyedAt: undefined,
      lastAccessedAt: undefined,
    };
    secret.versions.push(version);
    secret.nextVersion += 1;
    this.#touch(secret, now);
    return version;
  }

  destroyVersion(secret: SecretRecord, number: number): DestroyOutcome {
    const version = findVersion(secret, number);
    if (version === undefined) return 'notFound';
    if (version.destroyedAt !== undefined) return 'alreadyDestroyed';
    const now = this.now();
    version.destroyedAt = now;
    version.value = undefined;
    this.#touch(secret, now);
    return 'destroyed';
  }

  deleteSecret(scope: SecretScope, path: string): boolean {
    const removed = this.secrets.remove(scope, path);
    if (removed) this.changed();
    return removed;
  }

  /** An empty policy (`{}`, empty lists) clears it, as null does. */
  setAccessPolicy(secret: SecretRecord, policy: AccessPolicy | undefined): void {
    secret.accessPolicy = policyOrNone(policy);
    this.#touch(secret, this.now());
  }

  /** A reveal: not a change of the secret, so neither `updatedAt` nor `objectVersion` moves. */
  recordAccess(secret: SecretRecord, version: VersionRecord): void {
    const now = this.now();
    secret.lastAccessedAt = now;
    version.lastAccessedAt = now;
    this.changed();
  }

  #touch(secret: SecretRecord, now: number): void {
    secret.updatedAt = now;
    secret.objectVersion += 1;
    this.changed();
  }
}
