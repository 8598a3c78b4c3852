package helm

// The chart of the NR4xx documentation examples. Each example is a txtar archive of
// exampleChart, the rule's values.yaml and a template: exampleTemplate (which renders the
// values' podSecurityContext and securityContext the way `helm create` does) or the rule's own.
const (
	exampleChart = `-- Chart.yaml --
apiVersion: v2
name: app
version: 0.1.0
`
	exampleTemplate = `-- templates/deployment.yaml --
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          {{- with .Values.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
`
)
