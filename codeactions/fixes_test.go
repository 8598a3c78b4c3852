package codeactions_test

import (
	"testing"

	_ "github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/codeactions/fixtest"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/all"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/helm/helmrender" // charts render with Helm's engine in-process
)

// TestFixes checks every quick-fix case under testdata/fixes against its golden files and
// the fix properties (re-parses, finding gone, idempotent, comments and CRLF kept).
func TestFixes(t *testing.T) { fixtest.RunAll(t, "../testdata/fixes") }
