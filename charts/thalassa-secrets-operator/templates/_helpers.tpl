{{/* The chart name, or nameOverride. */}}
{{- define "tso.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's resources, at most 63 characters. */}}
{{- define "tso.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tso.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tso.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tso.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tso.labels" -}}
helm.sh/chart: {{ include "tso.chart" . }}
{{ include "tso.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: thalassa-secrets-operator
{{- end }}

{{- define "tso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tso.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tso.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The store of ThalassaSecrets without storeRef, as Kind/name. */}}
{{- define "tso.defaultStore" -}}
{{- default (printf "ClusterThalassaSecretStore/%s" .Values.defaultClusterStore.name) .Values.operator.defaultStore }}
{{- end }}

{{/* The name of the leader election Lease. */}}
{{- define "tso.leaseName" -}}
{{- default (include "tso.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{/* The watched namespaces, deduplicated, in the given order. */}}
{{- define "tso.watchNamespaces" -}}
{{- .Values.watchNamespaces | uniq | join "," }}
{{- end }}

{{/* Stops rendering on combinations that would run two writers or cannot work. */}}
{{- define "tso.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 requires leaderElection.enabled: without a lease every replica would write" }}
{{- end }}
{{- if and .Values.sharding.enabled (not .Values.leaderElection.enabled) }}
{{- fail "sharding.enabled requires leaderElection.enabled: the leader assigns the work" }}
{{- end }}
{{- if and .Values.defaultClusterStore.create (or (not .Values.defaultClusterStore.region) (not .Values.defaultClusterStore.organisation)) }}
{{- fail "defaultClusterStore.create requires defaultClusterStore.region and defaultClusterStore.organisation" }}
{{- end }}
{{- if and .Values.defaultClusterStore.create (eq .Values.defaultClusterStore.auth.method "secretRef") (not .Values.defaultClusterStore.auth.secretRef.name) }}
{{- fail "defaultClusterStore.auth.method secretRef requires defaultClusterStore.auth.secretRef.name" }}
{{- end }}
{{- end }}
