package codeactions_test

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions/fixtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
)

// TestFixes checks every quick-fix case under testdata/fixes against its golden files and
// the fix properties (re-parses, finding gone, idempotent, comments and CRLF kept).
func TestFixes(t *testing.T) { fixtest.RunAll(t, alltest.Engine(), "../testdata/fixes") }
