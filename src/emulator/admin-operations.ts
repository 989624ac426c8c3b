/**
Direct changes to the model for tests, the demo and the admin endpoint. They bypass authentication,
IAM, policies, feature gates, KMS checks, size limits and faults, and are not counted.
*/
import { pathProblem } from '../thalassa/paths.ts';
import { accessPolicySchema, type AccessPolicy } from '../thalassa/wire.ts';
import { validateAccessPolicy } from './access-policy.ts';
import { defaultKmsKey } from './default-kms-key.ts';
import { EmulatorInputError } from './input-error.ts';
import type { Feature, KmsKeyStatus, SecretRecord, SecretScope, StoredValue } from './records.ts';
import type { EmulatorState } from './state.ts';
import { describeZodError } from './zod-message.ts';

export interface SecretLocator {
  readonly organisation: string;
  readonly region: string;
  readonly path: string;
  readonly project?: string | undefined;
}

export interface PutSecretInput extends SecretLocator {
  /** A string is plain text (stored as UTF-8); a Buffer is the raw bytes. */
  readonly secretString?: string | Buffer | undefined;
  readonly secretKeyValues?: Readonly<Record<string, string>> | undefined;
  readonly kmsKeyIdentity?: string | undefined;
}

export interface DestroyVersionInput extends SecretLocator {
  readonly version: number;
}

export interface SetAccessPolicyInput extends SecretLocator {
  readonly policy: AccessPolicy | null;
}

export function resolveScope(state: EmulatorState, locator: SecretLocator): SecretScope {
  const organisation = state.directory.findOrganisation(locator.organisation);
  if (organisation === undefined) throw new EmulatorInputError(`unknown organisation ${locator.organisation}`);
  if (!state.directory.regions.has(locator.region)) throw new EmulatorInputError(`unknown region ${locator.region}`);
  if (locator.project !== undefined && !organisation.projects.has(locator.project)) {
    throw new EmulatorInputError(`organisation ${organisation.identity} has no project ${locator.project}`);
  }
  const problem = pathProblem(locator.path, 'path');
  if (problem !== undefined) throw new EmulatorInputError(`invalid secret path "${locator.path}": ${problem}`);
  return { organisation: organisation.identity, project: locator.project, region: locator.region };
}

function requireSecret(state: EmulatorState, locator: SecretLocator): SecretRecord {
  const secret = state.secrets.get(resolveScope(state, locator), locator.path);
  if (secret === undefined) throw new EmulatorInputError(`no secret at ${locator.path}`);
  return secret;
}

function storedValue(input: PutSecretInput): StoredValue {
  if ((input.secretString === undefined) === (input.secretKeyValues === undefined)) {
    throw new EmulatorInputError('give exactly one of secretString or secretKeyValues');
  }
  if (input.secretKeyValues !== undefined) return { format: 'keyValue', entries: { ...input.secretKeyValues } };
  const text = input.secretString ?? '';
  return { format: 'string', bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text) };
}

/** Creates the secret when it is missing, otherwise adds a version; returns the new version number. */
export function putSecret(state: EmulatorState, input: PutSecretInput): number {
  const scope = resolveScope(state, input);
  const value = storedValue(input);
  let secret = state.secrets.get(scope, input.path);
  if (secret === undefined) {
    let kmsKeyIdentity = input.kmsKeyIdentity;
    if (kmsKeyIdentity === undefined) {
      kmsKeyIdentity = defaultKmsKey(state, scope.organisation, scope.region).identity;
    } else if (!state.directory.kmsKeys.has(kmsKeyIdentity)) {
      throw new EmulatorInputError(`unknown kms key ${kmsKeyIdentity}`);
    }
    secret = state.createSecret({ scope, path: input.path, kmsKeyIdentity });
  }
  return state.addVersion(secret, value).version;
}

export function destroySecretVersion(state: EmulatorState, input: DestroyVersionInput): void {
  const secret = requireSecret(state, input);
  if (state.destroyVersion(secret, input.version) === 'notFound') {
    throw new EmulatorInputError(`secret ${input.path} has no version ${input.version}`);
  }
}

export function deleteSecretAt(state: EmulatorState, locator: SecretLocator): void {
  requireSecret(state, locator);
  state.deleteSecret(resolveScope(state, locator), locator.path);
}

export function setSecretAccessPolicy(state: EmulatorState, input: SetAccessPolicyInput): void {
  const secret = requireSecret(state, input);
  if (input.policy === null) {
    state.setAccessPolicy(secret, undefined);
    return;
  }
  const parsed = accessPolicySchema.safeParse(input.policy);
  if (!parsed.success) throw new EmulatorInputError(`invalid access policy: ${describeZodError(parsed.error)}`);
  try {
    validateAccessPolicy(parsed.data);
  } catch (error) {
    throw new EmulatorInputError(error instanceof Error ? error.message : String(error));
  }
  state.setAccessPolicy(secret, parsed.data);
}

export function setKmsKeyStatus(state: EmulatorState, identity: string, status: KmsKeyStatus): void {
  const key = state.directory.kmsKeys.get(identity);
  if (key === undefined) throw new EmulatorInputError(`unknown kms key ${identity}`);
  key.status = status;
  state.changed();
}

export function setRegionKms(state: EmulatorState, slug: string, available: boolean): void {
  const region = state.directory.regions.get(slug);
  if (region === undefined) throw new EmulatorInputError(`unknown region ${slug}`);
  region.kms = available;
  state.changed();
}

export function setFeature(state: EmulatorState, organisation: string, feature: Feature, enabled: boolean): void {
  const record = state.directory.findOrganisation(organisation);
  if (record === undefined) throw new EmulatorInputError(`unknown organisation ${organisation}`);
  record.features[feature] = enabled;
  state.changed();
}
