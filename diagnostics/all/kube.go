package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics/kube" // Kubernetes workloads: NR201–NR210
