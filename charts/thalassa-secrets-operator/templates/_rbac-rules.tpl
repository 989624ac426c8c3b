{{/*
What the operator does in a namespace it watches (src/operator.ts, src/controllers/, src/kube/):
- reads ThalassaSecrets and ThalassaSecretStores (informers) and writes their status;
- updates ThalassaSecrets' finalizers: the Secrets it creates carry an ownerReference with
  blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement admission plugin allows only
  to who may update the owner's finalizers;
- creates, patches, deletes and reads Secrets (list/watch only with the label selector
  secrets.thalassa.cloud/managed=true, which RBAC cannot express), and reads
  the credential Secrets of stores;
- mints tokens (TokenRequest) for ServiceAccounts named by workload identity stores;
- creates, patches and deletes the ThalassaSecrets of ClusterThalassaSecrets (one per matching
  namespace, labelled secrets.thalassa.cloud/cluster-thalassa-secret);
- reads ConfigMaps named in target.template.templateFrom (get), and watches the metadata of
  ConfigMaps (list/watch) so that an edit of one re-renders the Secrets using it;
- records Events on ThalassaSecrets;
- reads and patches Deployments, StatefulSets, DaemonSets and Argo Rollouts named in rolloutRestartTargets;
- lists Pods and ReplicaSets, only for target.immutable with rolloutRestartTargets: an earlier
  Secret of such a target is deleted only once no Pod and no scaled ReplicaSet names it.
*/}}
{{- define "tso.namespacedRules" -}}
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["thalassasecrets", "thalassasecretstores"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["thalassasecrets"]
  verbs: ["create", "patch", "delete"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["thalassasecrets/status", "thalassasecretstores/status"]
  verbs: ["patch", "update"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["thalassasecrets/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["list"]
- apiGroups: ["argoproj.io"]
  resources: ["rollouts"]
  verbs: ["get", "patch"]
{{- end }}

{{/*
Cluster-scoped: ClusterThalassaSecretStores (informer, status); ClusterThalassaSecrets (informer,
status, and finalizers: their ThalassaSecrets carry an ownerReference with blockOwnerDeletion).
*/}}
{{- define "tso.clusterStoreRules" -}}
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["clusterthalassasecretstores"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["clusterthalassasecretstores/status"]
  verbs: ["patch", "update"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["clusterthalassasecrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["clusterthalassasecrets/status"]
  verbs: ["patch", "update"]
- apiGroups: ["secrets.thalassa.cloud"]
  resources: ["clusterthalassasecrets/finalizers"]
  verbs: ["update"]
{{- end }}
