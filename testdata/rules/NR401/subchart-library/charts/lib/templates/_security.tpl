{{/* Renders the pod securityContext from .Values.podSecurityContext. */}}
{{- define "lib.podSecurityContext" -}}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
