/** The endpoints on one secret: `/v1/secrets/{region}/secret{path}[/policy|/versions|/value]`. */
import { putVersionRequestSchema, revealRequestSchema, setPolicyRequestSchema } from '../thalassa/wire.ts';
import { validateAccessPolicy } from './access-policy.ts';
import { badRequest, notFound, type ApiResponse } from './api-response.ts';
import { requireAllowed } from './iam.ts';
import type { VersionRecord } from './records.ts';
import { renderMetadata, renderRevealedValue } from './render.ts';
import { parseBody } from './request-body.ts';
import {
  requireBoundKeyActive,
  requirePolicyAllows,
  requireRegionKms,
  requireSamePath,
  requireSecret,
  requireSecretPath,
} from './secret-guards.ts';
import { currentVersion, findVersion } from './secret-versions.ts';
import type { SecretsContext } from './secrets-context.ts';
import { decodeValuePayload } from './values.ts';

export function getMetadata(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  requireAllowed(context.principal, 'read', path);
  const secret = requireSecret(context, path);
  const includeVersions = context.query.get('includeVersions') === 'true';
  return { status: 200, body: renderMetadata(secret, context.state.directory, includeVersions) };
}

export function setPolicy(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  const request = parseBody(context.body, setPolicyRequestSchema);
  requireAllowed(context.principal, 'update', path);
  const secret = requireSecret(context, path);
  if (request.accessPolicy !== null) validateAccessPolicy(request.accessPolicy);
  context.state.setAccessPolicy(secret, request.accessPolicy ?? undefined);
  return { status: 200, body: renderMetadata(secret, context.state.directory, false) };
}

export function addVersion(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  const request = parseBody(context.body, putVersionRequestSchema);
  requireSamePath(path, request.path);
  requireAllowed(context.principal, 'putSecretValue', path);
  const secret = requireSecret(context, path);
  requirePolicyAllows(context, secret, 'putSecretValue');
  const value = decodeValuePayload(request, context.limits);
  requireRegionKms(context.region);
  requireBoundKeyActive(context.state.directory, secret);
  const version = context.state.addVersion(secret, value);
  return { status: 201, body: { path, version: version.version } };
}

export function reveal(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  const request = parseBody(context.body, revealRequestSchema, {});
  requireSamePath(path, request.path);
  requireAllowed(context.principal, 'getSecretValue', path);
  const secret = requireSecret(context, path);
  requirePolicyAllows(context, secret, 'getSecretValue');
  let version: VersionRecord | undefined;
  if (request.version === undefined) {
    version = currentVersion(secret);
    if (version === undefined) throw badRequest(`secret has no active version: ${path}`);
  } else {
    version = findVersion(secret, request.version);
    if (version === undefined) throw notFound(`version ${request.version} not found for ${path}`);
    if (version.destroyedAt !== undefined) throw badRequest(`version ${request.version} of ${path} is destroyed`);
  }
  requireRegionKms(context.region);
  requireBoundKeyActive(context.state.directory, secret);
  context.state.recordAccess(secret, version);
  return { status: 200, body: renderRevealedValue(secret, version) };
}

function requireVersionNumber(text: string | null): number {
  if (text === null || !/^[1-9]\d{0,9}$/.test(text)) {
    throw badRequest('the version query parameter must be a positive integer');
  }
  return Number(text);
}

export function destroyVersion(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  const number = requireVersionNumber(context.query.get('version'));
  requireAllowed(context.principal, 'delete', path);
  const secret = requireSecret(context, path);
  if (context.state.destroyVersion(secret, number) === 'notFound') {
    throw notFound(`version ${number} not found for ${path}`);
  }
  return { status: 204 };
}

export function deleteSecret(context: SecretsContext, rawPath: string): ApiResponse {
  const path = requireSecretPath(rawPath);
  requireAllowed(context.principal, 'delete', path);
  requireSecret(context, path);
  context.state.deleteSecret(context.scope, path);
  return { status: 204 };
}
