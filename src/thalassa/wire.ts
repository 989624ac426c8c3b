/**
The JSON shapes of the Thalassa Secrets Manager API, as zod schemas. Responses are parsed leniently:
unknown fields pass through and only what the operator relies on is required, because the public
reference does not pin every field down (see docs/thalassa-api.md).
*/
import { z } from 'zod';

export const secretVersionSchema = z.looseObject({
  version: z.int().positive(),
  status: z.string().optional(),
  stage: z.string().nullish(),
  valueFormat: z.string().nullish(),
  createdAt: z.string().optional(),
  destroyedAt: z.string().nullish(),
  lastAccessedAt: z.string().nullish(),
});
export type SecretVersion = z.infer<typeof secretVersionSchema>;

export const kmsKeyRefSchema = z.looseObject({
  identity: z.string(),
  name: z.string().optional(),
  slug: z.string().optional(),
  keyType: z.string().optional(),
  status: z.string().optional(),
});

export const secretMetadataSchema = z.looseObject({
  path: z.string(),
  description: z.string().nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  kmsKey: kmsKeyRefSchema.nullish(),
  /** The latest active version; 0 when no version is active any more. */
  currentVersion: z.int().nonnegative(),
  objectVersion: z.int().optional(),
  lastAccessedAt: z.string().nullish(),
  accessPolicy: z.unknown().optional(),
  versions: z.array(secretVersionSchema).nullish(),
});
export type SecretMetadata = z.infer<typeof secretMetadataSchema>;

export const secretListSchema = z.array(secretMetadataSchema);

export const browseResponseSchema = z.looseObject({
  path: z.string(),
  prefixes: z.array(z.string()).nullish(),
  secrets: z.array(secretMetadataSchema).nullish(),
});
export type BrowseResponse = z.infer<typeof browseResponseSchema>;

export const revealResponseSchema = z.looseObject({
  path: z.string(),
  version: z.int().positive(),
  secretString: z.string().nullish(),
  secretKeyValues: z.record(z.string(), z.string()).nullish(),
  kmsKeyIdentity: z.string().nullish(),
  kmsKeyVersion: z.union([z.string(), z.number()]).nullish(),
});
export type RevealResponse = z.infer<typeof revealResponseSchema>;

export const putVersionResponseSchema = z.looseObject({
  path: z.string(),
  version: z.int().positive(),
});

export const errorBodySchema = z.looseObject({ message: z.string().optional() });

export const oidcTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive().optional(),
});

/** Access policy conditions in the shape of the public documentation (`conditions`), see docs/thalassa-api.md. */
export const accessPolicyConditionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ip'), effect: z.enum(['allow', 'deny']), cidrs: z.array(z.string()).min(1) }),
  z.object({
    type: z.literal('time'),
    effect: z.enum(['allow', 'deny']),
    startHour: z.int().min(0).max(23),
    endHour: z.int().min(0).max(24),
    timezone: z.string().optional(),
  }),
]);
export type AccessPolicyCondition = z.infer<typeof accessPolicyConditionSchema>;
/**
A statement in the shape Thalassa's official Go client sends (client-go `SecretPolicyStatement`,
used by Terraform and the CLI): `effect` is `allow` or `deny` in any case (Terraform sends `Allow`),
`actions` and `principals` are optional lists (Go omits empty ones).
*/
export const accessPolicyStatementSchema = z.object({
  effect: z.string().regex(/^(allow|deny)$/i, 'must be allow or deny'),
  actions: z.array(z.string().min(1)).nullish(),
  principals: z.array(z.string().min(1)).nullish(),
});
export type AccessPolicyStatement = z.infer<typeof accessPolicyStatementSchema>;
/**
Either shape, or both: the documented `conditions` and the official client's `statements`. A
policy with neither (`{}`, what client-go sends for no statements) is no policy.
*/
export const accessPolicySchema = z.object({
  conditions: z.array(accessPolicyConditionSchema).nullish(),
  statements: z.array(accessPolicyStatementSchema).nullish(),
});
export type AccessPolicy = z.infer<typeof accessPolicySchema>;

/** One of the three value forms a create or add-version request carries. */
export const secretPayloadSchema = z.object({
  secretString: z.string().optional(),
  secretKeyValues: z.record(z.string(), z.string()).optional(),
  generateSecret: z.object({ byteLength: z.int() }).optional(),
});

export const createSecretRequestSchema = secretPayloadSchema.extend({
  path: z.string(),
  kmsKeyIdentity: z.string().optional(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  accessPolicy: accessPolicySchema.nullish(),
});
export type CreateSecretRequest = z.infer<typeof createSecretRequestSchema>;

export const putVersionRequestSchema = secretPayloadSchema.extend({ path: z.string().optional() });
export type PutVersionRequest = z.infer<typeof putVersionRequestSchema>;

export const revealRequestSchema = z.object({ path: z.string().optional(), version: z.int().positive().optional() });

export const setPolicyRequestSchema = z.object({ accessPolicy: accessPolicySchema.nullable() });
