package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics/workspace" // the workspace graph and NR301–NR307
