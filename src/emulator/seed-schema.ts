/**
The seed document: the organisations, regions, keys, principals, credentials and secrets an emulator
starts with. Accepted by `startEmulator({seed})`, `emulator.seed()`, the CLI's `--seed FILE` and
`POST {adminUrl}/seed`. Objects are strict so a misspelt field fails loudly instead of being ignored.
*/
import { z } from 'zod';
import { accessPolicySchema } from '../thalassa/wire.ts';

const name = z.string().min(1);
const stringMap = z.record(z.string(), z.string());

export const permissionActions = [
  'read',
  'list',
  'getSecretValue',
  'putSecretValue',
  'create',
  'delete',
  'update',
  '*',
] as const;

const organisationSeed = z.strictObject({
  identity: name,
  slug: name.optional(),
  name: name.optional(),
  features: z.strictObject({ secrets: z.boolean().optional(), kms: z.boolean().optional() }).optional(),
  projects: z.array(name).optional(),
});

const regionSeed = z.strictObject({
  slug: name,
  identity: name.optional(),
  name: name.optional(),
  kms: z.boolean().optional(),
});

const kmsKeySeed = z.strictObject({
  identity: name,
  name: name.optional(),
  organisation: name,
  region: name,
  status: z.enum(['active', 'disabled']).optional(),
});

const principalSeed = z.strictObject({
  name,
  organisation: name,
  permissions: z.array(
    z.strictObject({
      actions: z.array(z.enum(permissionActions)).min(1),
      resources: z.array(z.string().regex(/^(\*|\/.*)$/, 'must be "*" or start with "/"')).optional(),
    }),
  ),
});

const versionSeed = z
  .strictObject({
    /** Plain text, stored as its UTF-8 bytes (the API's base64 is a wire encoding only). */
    secretString: z.string().optional(),
    secretKeyValues: stringMap.optional(),
    destroyed: z.boolean().optional(),
  })
  .refine((version) => !(version.secretString !== undefined && version.secretKeyValues !== undefined), {
    message: 'give secretString or secretKeyValues, not both',
  })
  .refine(
    (version) =>
      version.destroyed === true || version.secretString !== undefined || version.secretKeyValues !== undefined,
    { message: 'a version that is not destroyed needs secretString or secretKeyValues' },
  );

const secretSeed = z.strictObject({
  organisation: name,
  project: name.optional(),
  region: name,
  path: z.string(),
  kmsKeyIdentity: name.optional(),
  description: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  accessPolicy: accessPolicySchema.nullish(),
  versions: z.array(versionSeed).min(1),
});

export const seedSchema = z.strictObject({
  organisations: z.array(organisationSeed).optional(),
  regions: z.array(regionSeed).optional(),
  kmsKeys: z.array(kmsKeySeed).optional(),
  principals: z.array(principalSeed).optional(),
  personalAccessTokens: z.array(z.strictObject({ token: name, principal: name })).optional(),
  accessTokens: z
    .array(z.strictObject({ token: name, principal: name, expiresAt: z.iso.datetime({ offset: true }).optional() }))
    .optional(),
  oidcClients: z.array(z.strictObject({ clientId: name, clientSecret: name, principal: name })).optional(),
  federatedIdentities: z
    .array(
      z.strictObject({
        serviceAccountId: name,
        organisation: name,
        principal: name,
        subject: name.optional(),
        audiences: z.array(name).min(1),
        issuer: name.optional(),
        publicKeyPem: name.optional(),
      }),
    )
    .optional(),
  secrets: z.array(secretSeed).optional(),
});

export type EmulatorSeed = z.input<typeof seedSchema>;
export type ParsedSeed = z.output<typeof seedSchema>;
export type SecretSeed = z.output<typeof secretSeed>;
