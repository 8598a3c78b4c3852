// Package all registers every rule group of the engine. Import it for its side effects; each
// group adds one file here with a blank import of its package.
package all

import _ "github.com/nonroot-ls/nonroot-ls/diagnostics" // the engine's own rules (NR001)
