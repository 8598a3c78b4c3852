package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile" // Dockerfile image model, NR101–NR111
