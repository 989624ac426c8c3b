/** `GET|POST /v1/secrets/{region}/secrets`: browse one level, flat list by prefix, create. */
import { createSecretRequestSchema } from '../thalassa/wire.ts';
import { validateAccessPolicy } from './access-policy.ts';
import { badRequest, conflict, forbidden, type ApiResponse } from './api-response.ts';
import { isAllowed, mayList, requireAllowed } from './iam.ts';
import type { SecretRecord } from './records.ts';
import { renderMetadata } from './render.ts';
import { parseBody } from './request-body.ts';
import {
  requireBrowsePath,
  requireListPrefix,
  requireRegionKms,
  requireSecretPath,
  requireUsableKey,
} from './secret-guards.ts';
import type { SecretsContext } from './secrets-context.ts';
import { decodeValuePayload } from './values.ts';

function requireList(context: SecretsContext): void {
  if (!mayList(context.principal)) throw forbidden('permission denied: list');
}

function byPath(a: SecretRecord, b: SecretRecord): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function browse(context: SecretsContext): ApiResponse {
  if (context.query.has('pathPrefix')) throw badRequest('give either path or pathPrefix, not both');
  const path = requireBrowsePath(context.query.get('path') ?? '');
  requireList(context);
  const prefixes = new Set<string>();
  const secrets: SecretRecord[] = [];
  for (const secret of context.state.secrets.inScope(context.scope)) {
    if (!secret.path.startsWith(path) || !isAllowed(context.principal, 'read', secret.path)) continue;
    const slash = secret.path.indexOf('/', path.length);
    if (slash === -1) secrets.push(secret);
    else prefixes.add(secret.path.slice(0, slash + 1));
  }
  return {
    status: 200,
    body: {
      path,
      prefixes: [...prefixes].sort(),
      secrets: secrets.sort(byPath).map((secret) => renderMetadata(secret, context.state.directory, false)),
    },
  };
}

export function list(context: SecretsContext): ApiResponse {
  const prefix = context.query.get('pathPrefix');
  if (prefix === null) throw badRequest('either the path or the pathPrefix query parameter is required');
  requireListPrefix(prefix);
  requireList(context);
  const found: SecretRecord[] = [];
  for (const secret of context.state.secrets.inScope(context.scope)) {
    if (secret.path.startsWith(prefix) && isAllowed(context.principal, 'read', secret.path)) found.push(secret);
  }
  return {
    status: 200,
    body: found.sort(byPath).map((secret) => renderMetadata(secret, context.state.directory, false)),
  };
}

export function create(context: SecretsContext): ApiResponse {
  const request = parseBody(context.body, createSecretRequestSchema);
  const path = requireSecretPath(request.path);
  requireAllowed(context.principal, 'create', path);
  const value = decodeValuePayload(request, context.limits);
  if (request.kmsKeyIdentity === undefined || request.kmsKeyIdentity === '') {
    throw badRequest('kmsKeyIdentity is required');
  }
  if (request.accessPolicy) validateAccessPolicy(request.accessPolicy);
  const { state } = context;
  if (state.secrets.get(context.scope, path) !== undefined) throw conflict(`secret already exists: ${path}`);
  requireRegionKms(context.region);
  const { identity: organisation } = context.organisation;
  const key = requireUsableKey(state.directory, request.kmsKeyIdentity, organisation, context.region.slug);
  const secret = state.createSecret({
    scope: context.scope,
    path,
    description: request.description,
    labels: request.labels,
    annotations: request.annotations,
    kmsKeyIdentity: key.identity,
    accessPolicy: request.accessPolicy,
  });
  state.addVersion(secret, value);
  return { status: 201, body: renderMetadata(secret, state.directory, false) };
}
