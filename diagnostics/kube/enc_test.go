package kube_test

import (
	"io"

	yaml "go.yaml.in/yaml/v3"
)

func yamlEncoder(w io.Writer) *yaml.Encoder { return yaml.NewEncoder(w) }
