{{/*
Named templates. Every template here takes a "scope": anything with .Values (this chart's values)
and .Release, optionally .Chart. Inside this chart the scope is the root context `.`; a parent chart
that has omnigate as a dependency passes `.Subcharts.omnigate`, the subchart's own context, so
names, values and the image tag are exactly what the subchart itself renders.
*/}}

{{- define "omnigate.name" -}}
{{- default "omnigate" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "omnigate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "omnigate.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "omnigate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "omnigate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "omnigate.helmTestLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: helm-test
{{- end -}}

{{- define "omnigate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "omnigate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: gateway
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "omnigate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "omnigate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "omnigate.image" -}}
{{- $chart := .Chart | default dict -}}
{{- $tag := .Values.image.tag | default (get $chart "AppVersion") | default "latest" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (toString $tag) -}}
{{- end -}}
{{- end -}}

{{- define "omnigate.rulesConfigMapName" -}}
{{- if .Values.rules.existingConfigMap -}}
{{- .Values.rules.existingConfigMap -}}
{{- else -}}
{{- printf "%s-rules" (include "omnigate.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{/* The rule files as ConfigMap data: strings verbatim, maps rendered with toYaml. */}}
{{- define "omnigate.rulesData" -}}
{{- range $file, $content := .Values.rules.files }}
{{ $file | quote }}: |
{{ ternary $content (toYaml $content) (kindIs "string" $content) | trimSuffix "\n" | indent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotation that restarts pods when the chart-managed rules change (rules.rollOnChange). */}}
{{- define "omnigate.podAnnotations" -}}
{{- if and .Values.rules.rollOnChange (not .Values.rules.existingConfigMap) -}}
checksum/omnigate-rules: {{ include "omnigate.rulesData" . | sha256sum }}
{{- end -}}
{{- end -}}

{{/* Fails the render early, with the value to set, instead of shipping a pod that never gets ready. */}}
{{- define "omnigate.validate" -}}
{{- if not .Values.upstream.url -}}
{{- fail "omnigate: set upstream.url (the chat API's base URL, e.g. http://chat-api:3000 or, in sidecar mode, http://127.0.0.1:3000)" -}}
{{- end -}}
{{- if and (not .Values.rules.existingConfigMap) (not .Values.rules.files) -}}
{{- fail "omnigate: no rules: set rules.files (file name -> rule YAML) or rules.existingConfigMap" -}}
{{- end -}}
{{- if not (has .Values.mode (list "standalone" "sidecar")) -}}
{{- fail (printf "omnigate: mode must be standalone or sidecar, not %q" .Values.mode) -}}
{{- end -}}
{{- if and .Values.linking.enabled (not .Values.linking.redis.existingSecret) (eq .Values.mode "standalone") -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) -}}
{{- fail "omnigate: linking with SQLite keeps its store on one pod's volume: set replicaCount: 1 (and autoscaling.enabled: false), or point linking.redis.existingSecret at a Secret holding a Redis URL for several replicas" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Identity linking: the store URL the rules use when they name none (SPEC 4.1). */}}
{{- define "omnigate.linkingEnv" -}}
{{- $l := .Values.linking -}}
{{- if $l.enabled }}
- name: OMNIGATE_LINK_STORE
  {{- if $l.redis.existingSecret }}
  {{- /* SECURITY: the Redis URL may hold a password: it comes from the Secret only. */}}
  valueFrom:
    secretKeyRef:
      name: {{ $l.redis.existingSecret | quote }}
      key: {{ $l.redis.secretKey | quote }}
  {{- else }}
  value: {{ printf "sqlite:///%s/identities.db" (trimSuffix "/" $l.sqlite.mountPath) | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
The gateway container, shared by the standalone Deployment and sidecar mode. Ports are named
omnigate-http / omnigate-admin so they cannot clash with the app's own port names in a shared pod.
*/}}
{{- define "omnigate.container" -}}
{{- include "omnigate.validate" . -}}
{{- $v := .Values -}}
- name: omnigate
  image: {{ include "omnigate.image" . | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args:
    - serve
    {{- range $v.gateway.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  {{- if $v.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  env:
    - name: OMNIGATE_UPSTREAM
      value: {{ $v.upstream.url | quote }}
    - name: OMNIGATE_LISTEN
      value: {{ printf "0.0.0.0:%v" $v.gateway.port | quote }}
    - name: OMNIGATE_ADMIN_LISTEN
      value: {{ printf "0.0.0.0:%v" $v.gateway.adminPort | quote }}
    - name: OMNIGATE_RULES
      value: {{ $v.rules.mountPath | quote }}
    - name: OMNIGATE_WORKERS
      value: {{ $v.gateway.workers | toString | quote }}
    - name: OMNIGATE_UPSTREAM_TIMEOUT
      value: {{ $v.upstream.timeoutSeconds | toString | quote }}
    - name: OMNIGATE_MAX_BODY
      value: {{ $v.gateway.maxBody | int64 | toString | quote }}
    - name: OMNIGATE_LOG_FORMAT
      value: {{ $v.gateway.logFormat | quote }}
    - name: OMNIGATE_AUDIT_LOG
      value: {{ $v.gateway.auditLog | quote }}
    - name: TMPDIR
      value: /tmp
    {{- with (include "omnigate.linkingEnv" . | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- /* SECURITY: secret values come from existing Secrets only; the chart never holds them. */}}
    {{- range $name, $ref := $v.secrets.env }}
    - name: {{ $name }}
      valueFrom:
        secretKeyRef:
          name: {{ required (printf "omnigate: secrets.env.%s.secretName is required" $name) $ref.secretName | quote }}
          key: {{ required (printf "omnigate: secrets.env.%s.key is required" $name) $ref.key | quote }}
    {{- end }}
    {{- with $v.gateway.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if $v.secrets.existingSecret }}
  envFrom:
    - secretRef:
        name: {{ $v.secrets.existingSecret | quote }}
  {{- end }}
  ports:
    - name: omnigate-http
      containerPort: {{ $v.gateway.port }}
      protocol: TCP
    - name: omnigate-admin
      containerPort: {{ $v.gateway.adminPort }}
      protocol: TCP
  startupProbe:
    httpGet:
      path: /healthz
      port: omnigate-admin
    periodSeconds: {{ $v.probes.startup.periodSeconds }}
    failureThreshold: {{ $v.probes.startup.failureThreshold }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: omnigate-admin
    periodSeconds: {{ $v.probes.liveness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.liveness.failureThreshold }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: omnigate-admin
    periodSeconds: {{ $v.probes.readiness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.readiness.failureThreshold }}
  {{- if $v.preStopSleepSeconds }}
  lifecycle:
    preStop:
      exec:
        command: ["sleep", {{ $v.preStopSleepSeconds | toString | quote }}]
  {{- end }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    - name: omnigate-rules
      mountPath: {{ $v.rules.mountPath | quote }}
      readOnly: true
    - name: omnigate-tmp
      mountPath: /tmp
    {{- if and $v.linking.enabled (not $v.linking.redis.existingSecret) }}
    - name: omnigate-links
      mountPath: {{ $v.linking.sqlite.mountPath | quote }}
    {{- end }}
    {{- range $i, $f := $v.secrets.files }}
    - name: {{ printf "omnigate-secret-%d" $i }}
      mountPath: {{ required "omnigate: secrets.files[].mountPath is required" $f.mountPath | quote }}
      readOnly: true
    {{- end }}
{{- end -}}

{{/* The pod volumes the container mounts: rules ConfigMap (whole directory, never subPath, so
updates reach the pod), the /tmp emptyDir and any secret file mounts. */}}
{{- define "omnigate.volumes" -}}
- name: omnigate-rules
  configMap:
    name: {{ include "omnigate.rulesConfigMapName" . | quote }}
- name: omnigate-tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- $l := .Values.linking }}
{{- if and $l.enabled (not $l.redis.existingSecret) }}
- name: omnigate-links
  {{- if $l.sqlite.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ $l.sqlite.existingClaim | quote }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ $l.sqlite.sizeLimit }}
  {{- end }}
{{- end }}
{{- range $i, $f := .Values.secrets.files }}
- name: {{ printf "omnigate-secret-%d" $i }}
  secret:
    secretName: {{ required "omnigate: secrets.files[].secretName is required" $f.secretName | quote }}
    {{- /* 0444: in sidecar mode the pod's fsGroup is the app's; group-read could lock us out. */}}
    defaultMode: 0444
{{- end }}
{{- end -}}

{{/*
Public sidecar API for parent charts (see helm/examples/sidecar-app):
  containers:
    {{- include "omnigate.sidecarContainer" .Subcharts.omnigate | nindent 8 }}
  volumes:
    {{- include "omnigate.sidecarVolumes" .Subcharts.omnigate | nindent 8 }}
and on the pod template's annotations (only renders with rules.rollOnChange):
    {{- include "omnigate.podAnnotations" .Subcharts.omnigate | nindent 8 }}
*/}}
{{- define "omnigate.sidecarContainer" -}}
{{- include "omnigate.container" . -}}
{{- end -}}

{{- define "omnigate.sidecarVolumes" -}}
{{- include "omnigate.volumes" . -}}
{{- end -}}
