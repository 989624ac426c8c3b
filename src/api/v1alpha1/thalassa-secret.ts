import { z } from 'zod';
import {
  cel,
  conditions,
  dnsSubdomainPattern,
  duration,
  pathPrefix,
  secretKey,
  secretPath,
  stringMap,
  type ObjectMeta,
} from './common.ts';

export const storeKinds = ['ThalassaSecretStore', 'ClusterThalassaSecretStore'] as const;

/** The shortest refreshInterval admission accepts (besides "0", never); the poller also holds older objects to it. */
export const minRefreshInterval = '1s';

export const refreshPolicies = ['Periodic', 'OnChange', 'CreatedOnce'] as const;
export type RefreshPolicy = (typeof refreshPolicies)[number];

/** spec.refreshPolicy with its default (in code, never on the server). */
export function refreshPolicyOf(resource: { readonly spec: { readonly refreshPolicy?: RefreshPolicy | undefined } }): RefreshPolicy {
  return resource.spec.refreshPolicy ?? 'Periodic';
}

const decodingStrategy = z
  .enum(['None', 'Base64'])
  .optional()
  .describe(
    'How values of a key/value secret are decoded: None (the default) uses them as they are, Base64 decodes ' +
      'each one. String secrets are always base64 on the wire and always decoded.',
  );

const version = z
  .int()
  .min(1)
  .max(2147483647)
  .optional()
  .describe('Pins this version. Absent: follow the current version, and pick up new ones at each refresh.');

export const dataEntry = z
  .object({
    key: secretKey.describe('The key in the Kubernetes Secret that receives the value.'),
    path: secretPath,
    version,
    property: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('For a key/value secret: the one key whose value is taken. Required when the secret is key/value.'),
    decodingStrategy,
  })
  .describe('One Secret key from one Thalassa secret.');

export const rewriteEntry = z
  .object({
    regexp: z
      .object({
        source: z
          .string()
          .min(1)
          .max(1024)
          .meta(
            cel({
              // matches() compiles its argument as RE2: an expression that does not compile fails the rule.
              rule: "'k'.matches(self) || !'k'.matches(self)",
              message: 'source must be a valid regular expression (RE2 syntax)',
            }),
          )
          .describe('A regular expression (Go RE2 syntax), matched against the key; every match is replaced.'),
        target: z
          .string()
          .max(1024)
          .describe('The replacement, as Go\'s Regexp.ReplaceAllString expands it: $1 or ${1} for a group, ${name} for a named one, $$ for "$".'),
      })
      .optional()
      .describe('Replaces every match of source in the key with target, as External Secrets Operator\'s rewrite.regexp does.'),
    transform: z
      .object({
        template: z
          .string()
          .min(1)
          .max(4096)
          .describe('A Go template whose output is the new key; .value is the key, e.g. "{{ .value | lower }}".'),
      })
      .optional()
      .describe('Renders the new key from a template over the key, as External Secrets Operator\'s rewrite.transform does.'),
  })
  .meta(cel({ rule: 'has(self.regexp) != has(self.transform)', message: 'exactly one of regexp and transform must be set' }))
  .describe('One rewrite of the keys of a dataFrom entry.');

export const dataFromEntry = z
  .object({
    path: secretPath.optional().describe('A key/value secret: each of its keys becomes a Secret key.'),
    pathPrefix: pathPrefix.optional(),
    version: version.describe('Pins the version of `path`. Not allowed with pathPrefix, which always follows the current versions.'),
    decodingStrategy,
    rewrite: z
      .array(rewriteEntry)
      .max(32)
      .optional()
      .describe(
        'Rewrites applied in order to each key this entry produces, the output of one the input of the next; a key no ' +
          'rewrite matches stays as it is. Every key after the rewrites must be a valid Secret key.',
      ),
  })
  .meta(
    cel(
      { rule: 'has(self.path) != has(self.pathPrefix)', message: 'exactly one of path and pathPrefix must be set' },
      {
        rule: '!has(self.version) || has(self.path)',
        message: 'version can only pin a path, not a pathPrefix',
        fieldPath: '.version',
      },
    ),
  )
  .describe(
    'Many Secret keys at once: every key of a key/value secret (path), or every secret under a prefix (pathPrefix). ' +
      'Under a prefix, a string secret becomes one key named after its path below the prefix with "/" replaced by "_", ' +
      'and a key/value secret contributes each of its keys. rewrite then renames the keys. Two entries (or data and an ' +
      'entry) that produce the same key fail with KeyCollision.',
  );

export const storeRef = z
  .object({
    kind: z
      .enum(storeKinds)
      .optional()
      .describe('Kind of the store; absent means ThalassaSecretStore (in the same namespace).'),
    name: z.string().min(1).max(253).regex(new RegExp(dnsSubdomainPattern)).describe('Name of the store.'),
  })
  .describe('The store that says where and how to reach Thalassa. Absent: the operator\'s default store (--default-store).');

export const templateFromEntry = z
  .object({
    configMap: z
      .object({
        name: z.string().min(1).max(253).regex(new RegExp(dnsSubdomainPattern)).describe('Name of the ConfigMap, in the namespace of this resource.'),
        items: z
          .array(
            z
              .object({
                key: secretKey.describe('A key of the ConfigMap\'s data: its value is the template, rendered into the key of the same name.'),
                templateAs: z
                  .enum(['Values'])
                  .optional()
                  .describe('Values (the default, and the only one supported): the ConfigMap value is the template of one value.'),
              })
              .describe('One template of the ConfigMap.'),
          )
          .min(1)
          .max(64)
          .describe('The keys of the ConfigMap that are templates.'),
      })
      .describe('A ConfigMap in the same namespace whose keys hold templates. An edit of it re-renders the Secret, without a new reveal.'),
    target: z
      .enum(['Data', 'Labels', 'Annotations'])
      .optional()
      .describe('Where the rendered templates go: Data (the default) Secret keys, Labels or Annotations of the Secret.'),
  })
  .describe('Templates kept in a ConfigMap, as External Secrets Operator\'s target.template.templateFrom[].configMap.');

/**
Secret types whose content Kubernetes itself manages: kube-controller-manager mints a token into a
service-account-token Secret for the ServiceAccount its annotations name, and a bootstrap token
grants cluster access. Never a target, never merged into.
*/
export const protectedSecretTypes: readonly string[] = ['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token'];

const secretType = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9./_-]+$/)
  .meta(
    cel({
      rule: protectedSecretTypes.map((type) => `self != '${type}'`).join(' && '),
      message: `types ${protectedSecretTypes.join(' and ')} are managed by Kubernetes and cannot be a target`,
    }),
  );

export const template = z
  .object({
    data: z
      .record(z.string().max(253), z.string().max(65536))
      .optional()
      .meta(
        cel({
          rule: "self.all(k, k.matches('^[-._a-zA-Z0-9]+$'))",
          message: 'template.data keys must be valid Secret keys (letters, digits, "-", "_", ".")',
        }),
      )
      .describe(
        'Secret keys rendered from Go templates (as External Secrets Operator renders them: pipelines, if, range, with, ' +
          'variables, and the sprig and certificate functions listed in docs/templates.md) over the synced values, ' +
          'e.g. "postgres://app:{{ .password }}@db:5432/app" or {{ index . "tls.crt" }}.',
      ),
    mergePolicy: z
      .enum(['Replace', 'Merge'])
      .optional()
      .describe('Replace (the default): the Secret holds only the templated keys. Merge: the synced keys and the templated ones.'),
    metadata: z
      .object({
        labels: stringMap
          .optional()
          .describe('Labels put on the Secret, each value a Go template over the synced values (keys are not templated).'),
        annotations: stringMap
          .optional()
          .describe('Annotations put on the Secret, each value a Go template over the synced values (keys are not templated).'),
      })
      .optional()
      .describe(
        'Templated labels and annotations, put on the Secret like target.labels and target.annotations (which win on the same key). ' +
          'Not written under creationPolicy Merge, which writes no labels or annotations of its own.',
      ),
    type: secretType
      .optional()
      .describe('Type of the Secret, as External Secrets Operator\'s target.template.type; the same as target.type, which it may not contradict.'),
    templateFrom: z
      .array(templateFromEntry)
      .max(16)
      .optional()
      .describe('Templates kept in ConfigMaps, rendered like template.data (which wins on the same key).'),
  })
  .describe('Shapes the Secret data from the synced values.');

export const target = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(dnsSubdomainPattern))
      .optional()
      .describe('Name of the Kubernetes Secret; absent means the name of this resource.'),
    type: secretType
      .optional()
      .describe(
        'Type of the Secret, e.g. kubernetes.io/tls or kubernetes.io/dockerconfigjson; absent means Opaque. ' +
          'kubernetes.io/service-account-token and bootstrap.kubernetes.io/token are refused.',
      ),
    creationPolicy: z
      .enum(['Owner', 'Orphan', 'Merge'])
      .optional()
      .describe(
        'Owner (the default): the operator creates the Secret and this resource owns it (it is deleted with it). ' +
          'Orphan: created but not owned. Merge: the Secret must exist; only the synced keys are written into it, ' +
          'never a key another field manager owns, and it never becomes the operator\'s (a later switch to Owner or Orphan ' +
          'leaves it alone). Merge refuses token Secrets and Secrets another controller manages.',
      ),
    deletionPolicy: z
      .enum(['Retain', 'Delete'])
      .optional()
      .describe(
        'What happens when the remote secret is gone (404): Retain (the default) keeps the last synced Secret, ' +
          'Delete deletes it. Delete is only allowed with creationPolicy Owner.',
      ),
    labels: stringMap.optional().describe('Labels put on the Secret.'),
    annotations: stringMap.optional().describe('Annotations put on the Secret.'),
    template: template.optional(),
    immutable: z
      .boolean()
      .optional()
      .describe(
        'Writes the Secret immutable: Kubernetes refuses any change of its data, and kubelets stop watching it. ' +
          'A new version cannot be written in place: without rolloutRestartTargets the resource turns Ready=False ' +
          '(ImmutableSecretOutdated) until the Secret is deleted; with them, each content gets a Secret of its own, ' +
          'named <name>-<content hash>, the listed workloads are pointed at it as they restart, and an earlier one is ' +
          'deleted once no Pod, scaled ReplicaSet or listed workload names it. Not with creationPolicy Merge.',
      ),
  })
  .meta(
    cel(
      {
        rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Delete' || !has(self.creationPolicy) || self.creationPolicy == 'Owner'",
        message: 'deletionPolicy Delete requires creationPolicy Owner',
        fieldPath: '.deletionPolicy',
      },
      {
        rule: "!has(self.immutable) || !self.immutable || !has(self.creationPolicy) || self.creationPolicy != 'Merge'",
        message: 'immutable cannot be set with creationPolicy Merge: the Secret is not the operator\'s to freeze',
        fieldPath: '.immutable',
      },
      {
        rule: '!has(self.type) || !has(self.template) || !has(self.template.type) || self.type == self.template.type',
        message: 'target.type and target.template.type must agree when both are set',
        fieldPath: '.template.type',
      },
    ),
  )
  .describe('The Kubernetes Secret that is written.');

export const rolloutRestartTarget = z
  .object({
    kind: z
      .enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'])
      .describe('Kind of the workload: Deployment, StatefulSet, DaemonSet (apps/v1), or Rollout (Argo Rollouts, argoproj.io/v1alpha1).'),
    name: z.string().min(1).max(253).regex(new RegExp(dnsSubdomainPattern)).describe('Name of the workload in this namespace.'),
  })
  .describe(
    'A workload restarted when the synced content changes: through an annotation on its pod template, or for an Argo Rollout ' +
      'through spec.restartAt, as kubectl argo rollouts restart does.',
  );

export const thalassaSecretSpec = z
  .object({
    storeRef: storeRef.optional(),
    refreshInterval: duration
      .meta(
        cel({
          // The poller looks for due polls once a second; a shorter interval could not be kept and
          // would only make this resource's polls as frequent as the poller can send them.
          rule: `self == '0' || duration(self) >= duration('${minRefreshInterval}')`,
          message: `refreshInterval must be at least ${minRefreshInterval}, or "0" for never`,
        }),
      )
      .optional()
      .describe(
        `How often to look for new versions of the secrets followed at their current version. Absent: 5m. "0": never. At least ${minRefreshInterval}.`,
      ),
    refreshPolicy: z
      .enum(refreshPolicies)
      .optional()
      .describe(
        'When the Secret is brought up to date. Periodic (the default): new versions are looked for every refreshInterval. ' +
          'OnChange: never polled; new versions are taken only when the spec or the force-sync annotation changes, and an ' +
          'edited or deleted Secret is restored with the versions it held. CreatedOnce: the Secret is written once and never ' +
          'again (not on a spec change, a force-sync or an edit); a deleted Secret is created again with the current versions.',
      ),
    data: z
      .array(dataEntry)
      .max(256)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'] })
      .describe('One Secret key per entry; keys are unique.'),
    dataFrom: z.array(dataFromEntry).max(64).optional().describe('Many Secret keys per entry.'),
    target: target.optional(),
    rolloutRestartTargets: z
      .array(rolloutRestartTarget)
      .max(32)
      .optional()
      .describe('Workloads restarted when the synced content changes (never on the first sync).'),
  })
  .meta(
    cel({
      rule: '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
      message: 'at least one entry in data or dataFrom is required',
    }),
  )
  .describe('What to sync from Thalassa and how to write it.');

export const syncedVersion = z
  .object({
    path: z.string().max(512).describe('Path of a synced secret.'),
    version: z.int().min(1).describe('The version that is in the Secret.'),
  })
  .describe('A secret and the version currently in the Secret.');

export const thalassaSecretStatus = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The metadata.generation the status was computed for.'),
    conditions: conditions.optional(),
    syncedVersions: z
      .array(syncedVersion)
      .max(4096)
      .optional()
      .describe('For each synced secret, the version in the Secret.'),
    versionsSummary: z
      .string()
      .max(256)
      .optional()
      .describe('The synced versions in short, e.g. "3" or "3,5,1", for kubectl get.'),
    secretName: z.string().max(253).optional().describe('Name of the Kubernetes Secret being written.'),
    lastSyncTime: z.string().optional().describe('When the operator last wrote the Secret (RFC 3339); a check that finds it current does not change it.'),
  })
  .describe('What the operator last did.');

export type ThalassaSecretSpec = z.infer<typeof thalassaSecretSpec>;
export type ThalassaSecretStatus = z.infer<typeof thalassaSecretStatus>;
export type DataEntry = z.infer<typeof dataEntry>;
export type DataFromEntry = z.infer<typeof dataFromEntry>;
export type RewriteEntry = z.infer<typeof rewriteEntry>;
export type TemplateFromEntry = z.infer<typeof templateFromEntry>;
export type StoreRef = z.infer<typeof storeRef>;
export type SecretTarget = z.infer<typeof target>;
export type RolloutRestartTarget = z.infer<typeof rolloutRestartTarget>;

export interface ThalassaSecret {
  readonly apiVersion: string;
  readonly kind: 'ThalassaSecret';
  readonly metadata: ObjectMeta;
  readonly spec: ThalassaSecretSpec;
  readonly status?: ThalassaSecretStatus | undefined;
}
