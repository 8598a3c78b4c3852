package codeactions_test

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions/fixtest"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/all"
)

func TestFixes(t *testing.T) { fixtest.RunAll(t, "../testdata/fixes") }
