/**
The CustomResourceDefinitions, built from the zod schemas the controller uses: one source of truth.
`npm run generate` writes them to crds/ and the Helm chart; the test command fails when those
files are stale.
*/
import type { z } from 'zod';
import { clusterThalassaSecretRules, clusterThalassaSecretSpec, clusterThalassaSecretStatus } from './v1alpha1/cluster-thalassa-secret.ts';
import { group, type CelRule } from './v1alpha1/common.ts';
import { clusterSecretStoreSpec, secretStoreSpec, secretStoreStatus } from './v1alpha1/secret-store.ts';
import { thalassaSecretSpec, thalassaSecretStatus } from './v1alpha1/thalassa-secret.ts';
import { toStructuralSchema, type JsonSchema } from './structural-schema.ts';

export const version = 'v1alpha1';

interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

export interface ResourceDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly printerColumns: readonly PrinterColumn[];
  /** CEL rules on the whole object, e.g. on metadata.name (the only place that sees it). */
  readonly rules?: readonly CelRule[];
}

const readyColumns: PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether it is in effect.' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Why it is (not) ready.' },
];
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' };

export const resources: readonly ResourceDefinition[] = [
  {
    kind: 'ThalassaSecret',
    plural: 'thalassasecrets',
    singular: 'thalassasecret',
    shortNames: ['tsecret'],
    scope: 'Namespaced',
    description: 'Syncs secrets from Thalassa Cloud Secrets Manager into a Kubernetes Secret and keeps it current.',
    spec: thalassaSecretSpec,
    status: thalassaSecretStatus,
    printerColumns: [
      ...readyColumns,
      { name: 'Versions', type: 'string', jsonPath: '.status.versionsSummary', description: 'Synced versions.' },
      { name: 'Secret', type: 'string', jsonPath: '.status.secretName', description: 'The Kubernetes Secret written.' },
      ageColumn,
      { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime', description: 'Last sync.', priority: 1 },
    ],
  },
  {
    kind: 'ThalassaSecretStore',
    plural: 'thalassasecretstores',
    singular: 'thalassasecretstore',
    shortNames: ['tstore'],
    scope: 'Namespaced',
    description: 'How ThalassaSecrets in this namespace reach Thalassa Cloud: API URL, region, organisation and credentials.',
    spec: secretStoreSpec,
    status: secretStoreStatus,
    printerColumns: [
      { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'Region.' },
      ...readyColumns,
      ageColumn,
    ],
  },
  {
    kind: 'ClusterThalassaSecretStore',
    plural: 'clusterthalassasecretstores',
    singular: 'clusterthalassasecretstore',
    shortNames: ['ctstore'],
    scope: 'Cluster',
    description: 'How ThalassaSecrets in the namespaces its conditions allow reach Thalassa Cloud.',
    spec: clusterSecretStoreSpec,
    status: secretStoreStatus,
    printerColumns: [
      { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'Region.' },
      ...readyColumns,
      ageColumn,
    ],
  },
  {
    kind: 'ClusterThalassaSecret',
    plural: 'clusterthalassasecrets',
    singular: 'clusterthalassasecret',
    shortNames: ['ctsecret'],
    scope: 'Cluster',
    description:
      'Writes the same Secret into every namespace that matches: a ThalassaSecret of its name in each, all read through one ' +
      'ClusterThalassaSecretStore, one reveal per version for all of them.',
    spec: clusterThalassaSecretSpec,
    status: clusterThalassaSecretStatus,
    rules: clusterThalassaSecretRules,
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether every matching namespace has its Secret.' },
      { name: 'Provisioned', type: 'integer', jsonPath: '.status.provisionedNamespaces', description: 'Namespaces whose Secret is in place.' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.failedNamespaces', description: 'Namespaces whose Secret is not.' },
      ageColumn,
      { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Why it is (not) ready.', priority: 1 },
    ],
  },
];

export function openApiSchema(resource: ResourceDefinition): JsonSchema {
  return {
    type: 'object',
    description: resource.description,
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion: secrets.thalassa.cloud/v1alpha1.' },
      kind: { type: 'string', description: `Kind: ${resource.kind}.` },
      metadata: { type: 'object' },
      spec: toStructuralSchema(resource.spec),
      status: toStructuralSchema(resource.status),
    },
    required: ['spec'],
    ...(resource.rules ? { 'x-kubernetes-validations': resource.rules.map((r) => ({ ...r })) } : {}),
  };
}

export function customResourceDefinition(resource: ResourceDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${resource.plural}.${group}` },
    spec: {
      group,
      names: {
        kind: resource.kind,
        listKind: `${resource.kind}List`,
        plural: resource.plural,
        singular: resource.singular,
        shortNames: [...resource.shortNames],
        categories: ['thalassa'],
      },
      scope: resource.scope,
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: resource.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: openApiSchema(resource) },
        },
      ],
    },
  };
}

export function customResourceDefinitions(): Record<string, unknown>[] {
  return resources.map(customResourceDefinition);
}
