import { z } from 'zod';
import { cel, conditions, dnsSubdomainPattern, labelSelector, namespacedSecretKeySelector, type CelRule, type ObjectMeta } from './common.ts';

const secretRefField = (what: string) =>
  z.object({ secretRef: namespacedSecretKeySelector.describe(`The Kubernetes Secret key that holds the ${what}.`) });

const serviceAccountRef = z
  .object({
    name: z.string().min(1).max(253).regex(new RegExp(dnsSubdomainPattern)).describe('Name of the Kubernetes ServiceAccount.'),
    namespace: z
      .string()
      .max(63)
      .optional()
      .describe('Namespace of the ServiceAccount. Required in a cluster-scoped store; not allowed in a namespaced one.'),
    audiences: z
      .array(z.string().min(1).max(512))
      .max(8)
      .optional()
      .describe('Audiences of the minted token; absent: https://api.thalassa.cloud.'),
  })
  .describe('A Kubernetes ServiceAccount whose token (minted through the TokenRequest API) is exchanged.');

const auth = z
  .object({
    personalAccessToken: secretRefField('personal access token, sent as "Authorization: Token ..."')
      .optional()
      .describe('A personal access token.'),
    accessToken: secretRefField('access token, sent as "Authorization: Bearer ..."').optional().describe('A ready-made access token.'),
    clientCredentials: z
      .object({
        clientID: z.string().min(1).max(256).describe("The service account access key's client ID."),
        clientSecretRef: namespacedSecretKeySelector.describe('The Kubernetes Secret key that holds the client secret.'),
        scopes: z.array(z.string().min(1).max(64)).max(16).optional().describe('OAuth scopes to request, e.g. api:read.'),
      })
      .optional()
      .describe('OIDC client credentials of a Thalassa service account, exchanged at {apiURL}/oidc/token.'),
    workloadIdentity: z
      .object({
        serviceAccountID: z
          .string()
          .min(1)
          .max(256)
          .optional()
          .describe(
            'The Thalassa service account (sa-...) federated with the Kubernetes ServiceAccount. Required in a ' +
              "namespaced store; absent in a cluster store: the operator's THALASSA_SERVICE_ACCOUNT_ID.",
          ),
        serviceAccountRef: serviceAccountRef
          .optional()
          .describe(
            "The Kubernetes ServiceAccount whose token is exchanged. Absent (cluster stores only): the operator's own " +
              'projected token (THALASSA_SUBJECT_TOKEN_FILE), as injected by the Thalassa workload identity webhook.',
          ),
      })
      .optional()
      .describe('Workload identity federation: a Kubernetes ServiceAccount token is exchanged for a Thalassa access token.'),
  })
  .meta(
    cel({
      rule:
        '[has(self.personalAccessToken), has(self.accessToken), has(self.clientCredentials), has(self.workloadIdentity)]' +
        '.filter(x, x).size() == 1',
      message: 'exactly one of personalAccessToken, accessToken, clientCredentials and workloadIdentity must be set',
    }),
  )
  .describe('How the operator authenticates; exactly one method.');

const rateLimit = z
  .object({
    requestsPerSecond: z.int().min(1).max(10000).describe('Sustained requests per second to the Thalassa API.'),
    burst: z.int().min(1).max(10000).optional().describe('Requests allowed at once after a quiet period; absent: requestsPerSecond.'),
  })
  .describe('Client-side rate limit for every request made through this store.');

const storeSpecFields = {
  apiURL: z
    .string()
    .max(2048)
    .optional()
    .meta(
      cel({
        rule: "isURL(self) && url(self).getScheme() in ['https', 'http'] && url(self).getHostname() != ''",
        message: 'apiURL must be an absolute http(s) URL',
      }),
    )
    .describe(
      'Base URL of the Thalassa API; absent: https://api.thalassa.cloud. Plain http is accepted only for a loopback ' +
        'address or with allowInsecureHTTP.',
    ),
  region: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .describe('Region of the secrets, e.g. nl-01.'),
  organisation: z.string().min(1).max(256).describe('Organisation identity or slug, sent as X-Organisation-Identity.'),
  project: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Project identity, sent as X-Project-Identity; absent: organisation scope.'),
  auth,
  caBundle: z.string().max(262144).optional().describe('PEM certificates that verify the API server, instead of the system roots.'),
  insecureSkipTLSVerify: z.boolean().optional().describe('Do not verify the API server certificate. For testing only.'),
  allowInsecureHTTP: z.boolean().optional().describe('Allow a plain http apiURL that is not a loopback address. For testing only.'),
  rateLimit: rateLimit.optional(),
};

const tlsRule: CelRule = {
  rule: '!(has(self.caBundle) && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)',
  message: 'caBundle and insecureSkipTLSVerify contradict each other',
  fieldPath: '.insecureSkipTLSVerify',
};

const refsAll = (predicate: string) =>
  ['personalAccessToken.secretRef', 'accessToken.secretRef', 'clientCredentials.clientSecretRef'].map(
    (ref) => `(!has(self.auth.${ref.split('.')[0]}) || ${predicate.replaceAll('REF', `self.auth.${ref}`)})`,
  );

export const secretStoreSpec = z
  .object(storeSpecFields)
  .meta(
    cel(
      tlsRule,
      {
        rule: refsAll('!has(REF.namespace)').join(' && '),
        message: 'a ThalassaSecretStore can only use Secrets in its own namespace: remove secretRef namespace',
        fieldPath: '.auth',
        reason: 'FieldValueForbidden',
      },
      {
        rule: '!has(self.auth.workloadIdentity) || has(self.auth.workloadIdentity.serviceAccountRef)',
        message: "a ThalassaSecretStore must name serviceAccountRef: only cluster stores may use the operator's own identity",
        fieldPath: '.auth.workloadIdentity',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.auth.workloadIdentity) || has(self.auth.workloadIdentity.serviceAccountID)',
        message: "a ThalassaSecretStore must name serviceAccountID: only cluster stores may use the operator's own identity",
        fieldPath: '.auth.workloadIdentity',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.auth.workloadIdentity) || !has(self.auth.workloadIdentity.serviceAccountRef) || !has(self.auth.workloadIdentity.serviceAccountRef.namespace)',
        message: 'a ThalassaSecretStore can only use ServiceAccounts in its own namespace: remove serviceAccountRef namespace',
        fieldPath: '.auth.workloadIdentity.serviceAccountRef.namespace',
        reason: 'FieldValueForbidden',
      },
    ),
  )
  .describe('Where Thalassa is and how to authenticate, for ThalassaSecrets in this namespace.');

export const storeCondition = z
  .object({
    namespaceSelector: labelSelector.optional().describe('Namespaces whose labels match.'),
    namespaces: z.array(z.string().min(1).max(63)).max(256).optional().describe('Namespaces by name.'),
  })
  .meta(
    cel({
      rule: 'has(self.namespaceSelector) || has(self.namespaces)',
      message: 'a condition needs namespaceSelector or namespaces',
    }),
  )
  .describe('A namespace matches when it matches namespaceSelector or is listed in namespaces.');

export const clusterSecretStoreSpec = z
  .object({
    ...storeSpecFields,
    conditions: z
      .array(storeCondition)
      .max(32)
      .optional()
      .describe('Which namespaces may use this store: any condition matching is enough. Absent: every namespace.'),
  })
  .meta(
    cel(tlsRule, {
      rule: refsAll('has(REF.namespace)').join(' && '),
      message: 'a ClusterThalassaSecretStore must name the namespace of every secretRef',
      fieldPath: '.auth',
      reason: 'FieldValueRequired',
    }, {
      rule: '!has(self.auth.workloadIdentity) || !has(self.auth.workloadIdentity.serviceAccountRef) || has(self.auth.workloadIdentity.serviceAccountRef.namespace)',
      message: 'a ClusterThalassaSecretStore must name the namespace of serviceAccountRef',
      fieldPath: '.auth.workloadIdentity.serviceAccountRef',
      reason: 'FieldValueRequired',
    }),
  )
  .describe('Where Thalassa is and how to authenticate, for ThalassaSecrets in the namespaces the conditions allow.');

export const secretStoreStatus = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The metadata.generation the status was computed for.'),
    conditions: conditions.optional(),
  })
  .describe('Whether the store is usable.');

export type SecretStoreSpec = z.infer<typeof secretStoreSpec>;
export type ClusterSecretStoreSpec = z.infer<typeof clusterSecretStoreSpec>;
export type StoreAuth = z.infer<typeof auth>;
export type SecretStoreStatus = z.infer<typeof secretStoreStatus>;

export interface ThalassaSecretStore {
  readonly apiVersion: string;
  readonly kind: 'ThalassaSecretStore';
  readonly metadata: ObjectMeta;
  readonly spec: SecretStoreSpec;
  readonly status?: SecretStoreStatus | undefined;
}

export interface ClusterThalassaSecretStore {
  readonly apiVersion: string;
  readonly kind: 'ClusterThalassaSecretStore';
  readonly metadata: ObjectMeta;
  readonly spec: ClusterSecretStoreSpec;
  readonly status?: SecretStoreStatus | undefined;
}

export type AnySecretStore = ThalassaSecretStore | ClusterThalassaSecretStore;
