/**
ClusterThalassaSecret: a ThalassaSecret spec, fanned out into every namespace that matches. Its spec
is built from the ThalassaSecret spec's own fields and rules (not copies), so whatever a
ThalassaSecret gains, a ClusterThalassaSecret gains too.
*/
import { z } from 'zod';
import { cel, conditions, dnsLabelPattern, labelSelector, type CelRule, type ObjectMeta } from './common.ts';
import { storeRef, thalassaSecretSpec, type ThalassaSecretSpec } from './thalassa-secret.ts';

/** On each child ThalassaSecret: the name of the ClusterThalassaSecret that wrote it. */
export const clusterThalassaSecretLabel = 'secrets.thalassa.cloud/cluster-thalassa-secret';

/** The most entries `status.failures` holds, however many namespaces fail. */
export const maxReportedFailures = 10;

/** The ThalassaSecret spec's own cross-field rules (e.g. at least one of data and dataFrom). */
const inheritedRules = (thalassaSecretSpec.meta()?.['x-kubernetes-validations'] ?? []) as CelRule[];

const clusterStoreRef = storeRef
  .meta(
    cel({
      rule: "has(self.kind) && self.kind == 'ClusterThalassaSecretStore'",
      message: 'a ClusterThalassaSecret can only use a ClusterThalassaSecretStore: set storeRef.kind: ClusterThalassaSecretStore',
      fieldPath: '.kind',
    }),
  )
  .optional()
  .describe(
    'The ClusterThalassaSecretStore every namespace reads through (kind must be ClusterThalassaSecretStore); its conditions ' +
      "still apply per namespace. Absent: the operator's default store (--default-store), which must then be a cluster store.",
  );

export const clusterThalassaSecretSpec = z
  .object({
    ...thalassaSecretSpec.shape,
    storeRef: clusterStoreRef,
    namespaceSelectors: z
      .array(labelSelector)
      .max(32)
      .optional()
      .describe('Namespaces whose labels match any of these selectors get the Secret; an empty selector ({}) matches every namespace.'),
    namespaces: z
      .array(z.string().min(1).max(63).regex(new RegExp(dnsLabelPattern)))
      .max(256)
      .optional()
      .describe('Namespaces by name that get the Secret, in addition to those namespaceSelectors match. A listed namespace that does not exist yet gets it once created.'),
  })
  .meta(
    cel(...inheritedRules, {
      rule: '(has(self.namespaceSelectors) && size(self.namespaceSelectors) > 0) || (has(self.namespaces) && size(self.namespaces) > 0)',
      message: 'at least one entry in namespaceSelectors or namespaces is required',
    }),
  )
  .describe(
    'A ThalassaSecret spec, and the namespaces it is written into: each matching namespace gets a ThalassaSecret of this name ' +
      'with this spec (without namespaceSelectors and namespaces), and so a Secret.',
  );

export const namespaceFailure = z
  .object({
    namespace: z.string().max(63).describe('The namespace.'),
    reason: z.string().max(1024).describe("A CamelCase reason: the Ready reason of the namespace's ThalassaSecret, or why it could not be written; see docs/troubleshooting.md."),
    message: z.string().max(1024).describe('A human-readable explanation, shortened to 1024 characters. Never contains a secret value.'),
  })
  .describe('A namespace whose Secret is not in place, and why.');

export const clusterThalassaSecretStatus = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The metadata.generation the status was computed for.'),
    conditions: conditions.optional(),
    provisionedNamespaces: z.int().min(0).optional().describe('Matching namespaces whose ThalassaSecret is Ready: their Secret is in place.'),
    failedNamespaces: z.int().min(0).optional().describe('Matching namespaces whose ThalassaSecret is not Ready, or could not be written.'),
    failures: z
      .array(namespaceFailure)
      .max(maxReportedFailures)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['namespace'] })
      .describe(`The first ${maxReportedFailures} failing namespaces in name order; failedNamespaces counts them all.`),
  })
  .describe('How far the fan-out got.');

export type ClusterThalassaSecretSpec = z.infer<typeof clusterThalassaSecretSpec>;
export type ClusterThalassaSecretStatus = z.infer<typeof clusterThalassaSecretStatus>;
export type NamespaceFailure = z.infer<typeof namespaceFailure>;

export interface ClusterThalassaSecret {
  readonly apiVersion: string;
  readonly kind: 'ClusterThalassaSecret';
  readonly metadata: ObjectMeta;
  readonly spec: ClusterThalassaSecretSpec;
  readonly status?: ClusterThalassaSecretStatus | undefined;
}

/** The spec each namespace's ThalassaSecret gets: everything but the namespace selection. */
export function childSpec(spec: ClusterThalassaSecretSpec): ThalassaSecretSpec {
  const { namespaceSelectors: _selectors, namespaces: _namespaces, ...rest } = spec;
  return rest;
}

/** Rules on the whole object: the name becomes a label value on every child (at most 63 characters). */
export const clusterThalassaSecretRules: readonly CelRule[] = [
  {
    rule: 'self.metadata.name.size() <= 63',
    message: "a ClusterThalassaSecret's metadata.name is at most 63 characters: it is the value of a label on each namespace's ThalassaSecret",
  },
];
