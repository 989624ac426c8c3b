/**
The write endpoints of the Thalassa Secrets Manager API, over HTTP, for tests: create, new
versions, access policies, destroy and delete. The operator only reads, so these are not in the
product's client (src/thalassa/client.ts); this one extends it and sends through the same request
path (ky, retries, rate limit, credentials, typed errors), so the contract tests exercise the
emulator's write endpoints exactly as a real client would.

Seeding state without HTTP is the emulator's own driver (`Emulator.putSecret`, `destroyVersion`,
`setAccessPolicy`...); this is for testing the API itself.
*/
import { encodeBase64 } from '../../src/thalassa/base64.ts';
import { ThalassaClient, type CallOptions } from '../../src/thalassa/client.ts';
import { assertValidPath, secretResourcePath, secretsCollectionPath } from '../../src/thalassa/paths.ts';
import { putVersionResponseSchema, secretMetadataSchema, type AccessPolicy, type SecretMetadata } from '../../src/thalassa/wire.ts';

/** What a create or add-version request carries: bytes (base64 on the wire), a map, or a server-generated value. */
export type SecretPayload =
  | { readonly string: Uint8Array | string }
  | { readonly keyValues: Readonly<Record<string, string>> }
  | { readonly generate: { readonly byteLength: number } };

export interface CreateSecretInput {
  readonly path: string;
  readonly kmsKeyIdentity: string;
  readonly payload: SecretPayload;
  readonly description?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly accessPolicy?: AccessPolicy | null;
}

export class ThalassaAdminClient extends ThalassaClient {
  /** Creates the secret with version 1. Not idempotent: re-sent only after 429 or 503. */
  async create(input: CreateSecretInput, options: CallOptions = {}): Promise<SecretMetadata> {
    assertValidPath(input.path);
    return await this.request(
      {
        ...options,
        operation: 'create',
        method: 'POST',
        url: secretsCollectionPath(this.region),
        json: {
          path: input.path,
          kmsKeyIdentity: input.kmsKeyIdentity,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.labels ? { labels: input.labels } : {}),
          ...(input.annotations ? { annotations: input.annotations } : {}),
          ...(input.accessPolicy === undefined ? {} : { accessPolicy: input.accessPolicy }),
          ...payloadFields(input.payload),
        },
        // Named in errors; the request is the collection's, so a 404 is never the secret's.
        path: input.path,
        endpoint: 'collection',
        requestValues: [input.kmsKeyIdentity],
        idempotent: false,
        sensitive: payloadSecrets(input.payload),
      },
      secretMetadataSchema,
    );
  }

  /** Sets or (with null) clears the access policy. */
  async setPolicy(path: string, accessPolicy: AccessPolicy | null, options: CallOptions = {}): Promise<SecretMetadata> {
    return await this.request(
      { ...options, operation: 'setPolicy', method: 'PUT', url: secretResourcePath(this.region, path, '/policy'), json: { accessPolicy }, path },
      secretMetadataSchema,
    );
  }

  /** Publishes a new version and returns its number. Not idempotent: re-sent only after 429 or 503. */
  async addVersion(path: string, payload: SecretPayload, options: CallOptions = {}): Promise<number> {
    const response = await this.request(
      {
        ...options,
        operation: 'addVersion',
        method: 'POST',
        url: secretResourcePath(this.region, path, '/versions'),
        json: { path, ...payloadFields(payload) },
        path,
        idempotent: false,
        sensitive: payloadSecrets(payload),
      },
      putVersionResponseSchema,
    );
    return response.version;
  }

  async destroyVersion(path: string, versionNumber: number, options: CallOptions = {}): Promise<void> {
    await this.request({
      ...options,
      operation: 'destroyVersion',
      method: 'DELETE',
      url: secretResourcePath(this.region, path, '/versions'),
      searchParams: { version: String(versionNumber) },
      path,
    });
  }

  async delete(path: string, options: CallOptions = {}): Promise<void> {
    await this.request({ ...options, operation: 'delete', method: 'DELETE', url: secretResourcePath(this.region, path), path });
  }
}

/** The value as sent (base64 and as text) and each key/value value, to scrub from error messages. */
function payloadSecrets(payload: SecretPayload): string[] {
  if ('string' in payload) return [encodeBase64(payload.string), Buffer.from(payload.string).toString('utf8')];
  if ('keyValues' in payload) return Object.values(payload.keyValues);
  return [];
}

function payloadFields(payload: SecretPayload): Record<string, unknown> {
  if ('string' in payload) return { secretString: encodeBase64(payload.string) };
  if ('keyValues' in payload) return { secretKeyValues: payload.keyValues };
  return { generateSecret: { byteLength: payload.generate.byteLength } };
}
