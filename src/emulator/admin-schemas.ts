/** Request bodies of the admin endpoint. */
import { z } from 'zod';
import { accessPolicySchema } from '../thalassa/wire.ts';

const secretLocator = {
  organisation: z.string().min(1),
  region: z.string().min(1),
  path: z.string(),
  project: z.string().min(1).optional(),
};

export const adminPutSecretSchema = z
  .strictObject({
    ...secretLocator,
    /** Plain text. */
    secretString: z.string().optional(),
    /** Raw bytes as standard base64, for values that are not text. */
    secretStringBase64: z.base64().optional(),
    secretKeyValues: z.record(z.string(), z.string()).optional(),
    kmsKeyIdentity: z.string().min(1).optional(),
  })
  .refine(
    (body) =>
      [body.secretString, body.secretStringBase64, body.secretKeyValues].filter((v) => v !== undefined).length === 1,
    { message: 'give exactly one of secretString, secretStringBase64 or secretKeyValues' },
  );

export const adminDestroyVersionSchema = z.strictObject({ ...secretLocator, version: z.int().positive() });

export const adminSecretSchema = z.strictObject(secretLocator);

export const adminPolicySchema = z.strictObject({ ...secretLocator, policy: accessPolicySchema.nullable() });

export const adminKmsKeyStatusSchema = z.strictObject({
  identity: z.string().min(1),
  status: z.enum(['active', 'disabled']),
});

export const adminRegionKmsSchema = z.strictObject({ slug: z.string().min(1), kms: z.boolean() });

export const adminFeatureSchema = z.strictObject({
  organisation: z.string().min(1),
  feature: z.enum(['secrets', 'kms']),
  enabled: z.boolean(),
});
