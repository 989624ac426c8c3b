import { describe, expect, it } from 'vitest';
import { BadRequestError } from './bad-request-error.ts';
import { ForbiddenError } from './forbidden-error.ts';
import { NotFoundError } from './not-found-error.ts';
import type { ApiErrorDetails } from './thalassa-api-error.ts';

const base = { operation: 'get', path: '/app/db', requestValues: ['nl-01', 'org-1', '/app/db'] } as const;
const details = (status: number, serverMessage: string | undefined, extra: Partial<ApiErrorDetails> = {}): ApiErrorDetails => ({
  ...base,
  status,
  serverMessage,
  ...extra,
});

describe('NotFoundError.kind', () => {
  it.each([
    ['secret not found: /app/db', 'secret'],
    ['Secret /app/db does not exist', 'secret'],
    ["secret '/app/db' doesn't exist", 'secret'],
    ['No such secret', 'secret'],
    ['version 9 not found for /app/db', 'secret'],
    ['the secret version could not be found', 'secret'],
    ['region not found: nl-01', 'region'],
    ['Unknown region', 'region'],
    ['project not found: prj-x', 'project'],
    ['organisation does not exist', 'project'],
    ['kms key not found: kms-2', 'kmsKey'],
    ['KMS key for secret /app/db not found', 'kmsKey'],
    ['secret key not found', 'kmsKey'],
    ['Not Found', 'unknown'],
    ['404 page not found', 'unknown'],
    ['no endpoint at /api/v1/secrets/nl-01/secret/app/db', 'unknown'],
    ['record not found', 'unknown'],
    ['', 'unknown'],
  ] as const)('%j is %s', (message, kind) => {
    expect(new NotFoundError(details(404, message)).kind).toBe(kind);
  });

  it('reads a code before the message', () => {
    expect(new NotFoundError(details(404, 'secret not found', { serverCode: 'REGION_NOT_FOUND' })).kind).toBe('region');
    expect(new NotFoundError(details(404, 'Not Found', { serverCode: 'secretNotFound' })).kind).toBe('secret');
    // A code that names nothing known leaves the message to decide.
    expect(new NotFoundError(details(404, 'secret not found', { serverCode: 'NOT_FOUND' })).kind).toBe('secret');
  });

  it('never lets words of the request decide: the path, the project, the region', () => {
    expect(new NotFoundError(details(404, '/secret/db not found', { path: '/secret/db', requestValues: ['/secret/db'] })).kind).toBe('unknown');
    expect(new NotFoundError(details(404, 'secret-store not found', { requestValues: ['secret-store'] })).kind).toBe('unknown');
    expect(new NotFoundError(details(404, 'SECRET-STORE NOT FOUND', { requestValues: ['secret-store'] })).kind).toBe('unknown');
  });

  it('is never the secret for a request that is not about one secret', () => {
    expect(new NotFoundError(details(404, 'secret not found', { path: undefined })).kind).toBe('unknown');
    expect(new NotFoundError(details(404, 'secret not found', { endpoint: 'collection' })).kind).toBe('unknown');
    expect(new NotFoundError(details(404, 'region not found', { endpoint: 'collection' })).kind).toBe('region');
  });
});

describe('ForbiddenError.kind', () => {
  it.each([
    ['the secrets feature is not enabled for organisation org-1', 'featureDisabled'],
    ['Secrets Manager is not enabled for this organisation', 'featureDisabled'],
    ['KMS is disabled for this organisation', 'featureDisabled'],
    ['access policy denies getSecretValue on /app/db from 10.0.0.1: no allow condition matches', 'policyDenied'],
    ['denied by policy conditions', 'policyDenied'],
    ['permission denied: getSecretValue on /app/db', 'permissionDenied'],
    ['IAM policy does not allow getSecretValue', 'permissionDenied'],
    ['permission denied: create on /app/feature-flags/policy', 'permissionDenied'],
    ['Forbidden', 'permissionDenied'],
  ] as const)('%j is %s', (message, kind) => {
    expect(new ForbiddenError(details(403, message, { requestValues: [] })).kind).toBe(kind);
  });

  it('a project named after a kind does not decide', () => {
    expect(new ForbiddenError(details(403, 'no access to project policy-team', { requestValues: ['policy-team'] })).kind).toBe('permissionDenied');
  });
});

describe('BadRequestError.kind', () => {
  it.each([
    [400, 'version 1 of /app/db is destroyed', 'versionDestroyed'],
    [400, 'secret has no active version: /app/db', 'versionDestroyed'],
    [400, 'kms key kms-1 is disabled', 'kmsKeyDisabled'],
    [400, 'KMS key is pending deletion', 'kmsKeyDisabled'],
    [400, 'kmsKeyIdentity is required', 'validation'],
    [400, 'invalid secret path "/a//b": path must not contain "//"', 'invalidPath'],
    [400, 'secretKeyValues value of key "kms_path_destroyed" is not valid base64', 'invalidBase64'],
    [400, 'secret value of 17 bytes exceeds the size limit of 16 bytes', 'sizeLimit'],
    [413, 'Request Entity Too Large', 'sizeLimit'],
    [413, undefined, 'sizeLimit'],
    [422, 'Unprocessable', 'validation'],
  ] as const)('%i %j is %s', (status, message, kind) => {
    expect(new BadRequestError(details(status, message)).kind).toBe(kind);
  });
});
