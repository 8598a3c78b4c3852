package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics/helm" // Helm charts: NR401–NR404
