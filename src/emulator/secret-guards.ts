/** Checks shared by the secret endpoints, each failing with the status the reference gives it. */
import { pathProblem } from '../thalassa/paths.ts';
import { ApiError, badRequest, forbidden, notFound } from './api-response.ts';
import { policyRefusal, type GatedAction } from './access-policy.ts';
import type { Directory } from './directory.ts';
import type { KmsKeyRecord, RegionRecord, SecretRecord } from './records.ts';
import type { SecretsContext } from './secrets-context.ts';

export function requireSecretPath(path: string): string {
  const problem = pathProblem(path, 'path');
  if (problem !== undefined) throw badRequest(`invalid secret path "${path.slice(0, 80)}": path ${problem}`);
  return path;
}

/** Browse paths are directories: valid prefixes that end in `/`. */
export function requireBrowsePath(path: string): string {
  const problem = pathProblem(path, 'prefix') ?? (path.endsWith('/') ? undefined : 'must end with "/"');
  if (problem !== undefined) throw badRequest(`invalid browse path "${path.slice(0, 80)}": path ${problem}`);
  return path;
}

export function requireListPrefix(prefix: string): string {
  const problem = pathProblem(prefix, 'prefix');
  if (problem !== undefined) throw badRequest(`invalid pathPrefix "${prefix.slice(0, 80)}": path ${problem}`);
  return prefix;
}

/** A body may repeat the path (the official client does); it must then be the URL's path. */
export function requireSamePath(urlPath: string, bodyPath: string | undefined): void {
  if (bodyPath !== undefined && bodyPath !== urlPath) {
    throw badRequest(`path in the body (${bodyPath.slice(0, 80)}) does not match the path in the URL (${urlPath})`);
  }
}

export function requireSecret(context: SecretsContext, path: string): SecretRecord {
  const secret = context.state.secrets.get(context.scope, path);
  if (secret === undefined) throw notFound(`secret not found: ${path}`);
  return secret;
}

/** Access policies gate reveal and add-version only. */
export function requirePolicyAllows(
  context: SecretsContext,
  secret: SecretRecord,
  action: GatedAction,
): void {
  if (secret.accessPolicy === undefined) return;
  const refusal = policyRefusal(secret.accessPolicy, {
    action,
    principal: context.principal.name,
    ip: context.clientIp,
    now: context.state.now(),
  });
  if (refusal !== undefined) {
    throw forbidden(`access policy denies ${action} on ${secret.path} from ${context.clientIp}: ${refusal}`);
  }
}

export function requireRegionKms(region: RegionRecord): void {
  if (!region.kms) throw new ApiError(503, `KMS is not available in region ${region.slug}`);
}

function requireActive(key: KmsKeyRecord): KmsKeyRecord {
  if (key.status !== 'active') throw badRequest(`kms key ${key.identity} is disabled`);
  return key;
}

/** For create: the key must exist in the caller's organisation and the secret's region, and be active. */
export function requireUsableKey(
  directory: Directory,
  identity: string,
  organisation: string,
  region: string,
): KmsKeyRecord {
  const key = directory.kmsKeys.get(identity);
  if (key?.organisation !== organisation || key.region !== region) throw notFound(`kms key not found: ${identity}`);
  return requireActive(key);
}

/** For reveal and add-version: the key the secret is bound to must still be active. */
export function requireBoundKeyActive(directory: Directory, secret: SecretRecord): void {
  const key = directory.kmsKeys.get(secret.kmsKeyIdentity);
  if (key === undefined) throw notFound(`kms key not found: ${secret.kmsKeyIdentity}`);
  requireActive(key);
}
