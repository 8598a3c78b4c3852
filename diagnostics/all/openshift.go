package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics/openshift" // OpenShift profile: NR501–NR504
