/**
Building blocks shared by the custom resources. Every field carries a description (it becomes
`kubectl explain` text) and its admission rules (OpenAPI patterns, bounds, CEL).
*/
import { z } from 'zod';

export const group = 'secrets.thalassa.cloud';
export const apiVersion = `${group}/v1alpha1`;

/** CEL rules attached to a schema node; `fieldPath` points the error at the offending field. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export function cel(...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } {
  return { 'x-kubernetes-validations': rules };
}

// A path segment is non-empty (so no `//` and no trailing `/`) and is not `.` or `..`, which URL
// parsers resolve: `/app/../db` would reach `/db`.
const segment = '(?:[A-Za-z0-9_+-][A-Za-z0-9_.+-]*|\\.[A-Za-z0-9_+-][A-Za-z0-9_.+-]*|\\.\\.[A-Za-z0-9_.+-]+)';
export const secretPathPattern = `^(/${segment})+$`;
export const pathPrefixPattern = `^/(${segment}/)*$`;
export const secretKeyPattern = '^[-._a-zA-Z0-9]+$';
export const dnsSubdomainPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const dnsLabelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** Go-style durations as Kubernetes users write them: `30s`, `5m`, `1h30m`, or `0` for never. */
export const durationPattern = '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$';

export const secretPath = z
  .string()
  .max(512)
  .regex(new RegExp(secretPathPattern))
  .describe(
    'Path of the secret in Thalassa Secrets Manager, e.g. /app/production/db/password: starts with "/", ' +
      'letters, digits and / _ - . + only, no "//", no "." or ".." segment, no trailing "/", at most 512 characters.',
  );

export const pathPrefix = z
  .string()
  .max(512)
  .regex(new RegExp(pathPrefixPattern))
  .describe('A path prefix ending in "/", e.g. /app/production/shared/: every secret below it is synced.');

export const secretKey = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(secretKeyPattern))
  .describe('A key of the Kubernetes Secret: letters, digits, "-", "_" and "." only.');

export const duration = z
  .string()
  .max(64)
  .regex(new RegExp(durationPattern))
  .describe('A duration such as 30s, 5m or 1h30m; "0" disables it.');

export const stringMap = z.record(z.string().max(253), z.string().max(65536));

export const secretKeySelector = z
  .object({
    name: z.string().min(1).max(253).regex(new RegExp(dnsSubdomainPattern)).describe('Name of the Kubernetes Secret.'),
    key: secretKey.describe('Key in that Secret whose value is the credential.'),
  })
  .describe('A key of a Kubernetes Secret in the same namespace as the referring resource.');

export const namespacedSecretKeySelector = secretKeySelector
  .extend({
    namespace: z
      .string()
      .max(63)
      .regex(new RegExp(dnsLabelPattern))
      .optional()
      .describe('Namespace of the Secret. Required in a cluster-scoped store; not allowed in a namespaced one.'),
  })
  .describe('A key of a Kubernetes Secret.');

export const labelSelectorRequirement = z
  .object({
    key: z.string().min(1).max(317).describe('The label key the selector applies to.'),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
    values: z.array(z.string().max(63)).max(64).optional().describe('Values for In and NotIn; empty for Exists and DoesNotExist.'),
  })
  .describe('A label selector requirement.');

export const labelSelector = z
  .object({
    matchLabels: z.record(z.string().max(317), z.string().max(63)).optional().describe('Labels that must all match.'),
    matchExpressions: z.array(labelSelectorRequirement).max(32).optional().describe('Requirements that must all hold.'),
  })
  .describe('A Kubernetes label selector; an empty selector matches everything.');

export const condition = z
  .object({
    type: z.string().max(316).describe('Type of the condition, e.g. Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z.string().max(1024).describe('A CamelCase reason for the last transition; see docs/troubleshooting.md.'),
    message: z.string().max(32768).describe('A human-readable explanation. Never contains a secret value.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z.int().min(0).optional().describe('The metadata.generation the condition was set for.'),
  })
  .describe('A standard Kubernetes condition.');

export const conditions = z
  .array(condition)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Current conditions of the resource; Ready says whether it is in effect.');

export type Condition = z.infer<typeof condition>;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
  readonly generation?: number | undefined;
  readonly resourceVersion?: string | undefined;
  readonly labels?: Record<string, string> | undefined;
  readonly annotations?: Record<string, string> | undefined;
  readonly deletionTimestamp?: string | Date | undefined;
  readonly creationTimestamp?: string | Date | undefined;
}
