package all_test

import (
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
)

// TestDocExamples: every rule's Doc.Bad fires it and its Doc.Good does not.
func TestDocExamples(t *testing.T) { diagtest.RunDocExamples(t, alltest.Engine()) }
