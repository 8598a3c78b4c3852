package codeactions_test

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/codeactions/fixtest"
)

func TestFixes(t *testing.T) { fixtest.RunAll(t, "../testdata/fixes") }
