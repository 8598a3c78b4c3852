package server

import (
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

func TestDiagnosticShape(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# é😀 TODO\r\n# as root\r\n")
	ds := h.diags(u, 1)
	if len(ds) != 2 {
		t.Fatalf("diagnostics: %+v", ds)
	}
	todo, user := ds[0], ds[1]
	// "# é😀 " is 6 UTF-16 code units (😀 is a surrogate pair).
	if todo.Range != rng(0, 6, 0, 10) {
		t.Errorf("TODO range %+v, want 0:6-0:10 in UTF-16", todo.Range)
	}
	if user.Range != rng(1, 5, 1, 9) {
		t.Errorf("USER range %+v, want 1:5-1:9", user.Range)
	}
	if c, _ := user.Code.(protocol.String); c != "NR990" {
		t.Errorf("code %v", user.Code)
	}
	if src, _ := user.Source.Get(); src != "nonroot-ls" {
		t.Errorf("source %q", src)
	}
	if user.Severity != protocol.DiagnosticSeverityWarning {
		t.Errorf("severity %v", user.Severity)
	}
	if got, want := string(user.CodeDescription.Href), testRule.DocURL(); got != want {
		t.Errorf("codeDescription.href %q, want %q", got, want)
	}
	if messageOf(user) != "the container runs as root" {
		t.Errorf("message %q", messageOf(user))
	}
	if len(user.RelatedInformation) != 1 || user.RelatedInformation[0].Location.URI != u ||
		user.RelatedInformation[0].Location.Range != rng(0, 0, 0, 10) || user.RelatedInformation[0].Message != "first line" {
		t.Errorf("relatedInformation %+v", user.RelatedInformation)
	}
}

func TestUTF8Encoding(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{General: &protocol.GeneralClientCapabilities{PositionEncodings: []protocol.PositionEncodingKind{"utf-8", "utf-16"}}}, "")
	u := h.open("Dockerfile", "# é😀 TODO\n")
	ds := h.diags(u, 1)
	if len(ds) != 1 || ds[0].Range != rng(0, 9, 0, 13) {
		t.Fatalf("diagnostics in UTF-8: %+v, want 0:9-0:13", ds)
	}
}

// TestChangedDocumentFirst: after a change, the changed document is published first; the
// others are re-diagnosed and published only when their diagnostics changed.
func TestChangedDocumentFirst(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	a := h.open("a/Dockerfile", "# as root\n")
	h.diags(a, 1)
	b := h.open("b/Dockerfile", "# as root\n")
	h.diags(b, 1)
	n := len(h.c.Order())
	h.c.Change(h.ctx, b, 2, rng(0, 0, 0, 0), "# TODO\n")
	h.diags(b, 2)
	order := h.c.Order()[n:]
	if len(order) == 0 || order[0] != b {
		t.Fatalf("publications after changing b: %v", order)
	}
	for _, u := range order {
		if u == a {
			t.Errorf("unchanged document a was published again: %v", order)
		}
	}
	if _, count := h.c.Latest(a); count != 1 {
		t.Errorf("a published %d times", count)
	}
}

// TestSlowDocumentDoesNotHoldUpOthers: a document whose diagnosis overruns the budget is
// skipped (with a log message) and the other documents are still published.
func TestSlowDocumentDoesNotHoldUpOthers(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	h.s.pub.mu.Lock()
	h.s.pub.budget = 50 * time.Millisecond
	h.s.pub.mu.Unlock()
	release := make(chan struct{})
	slowGate.Store(&release)
	defer slowGate.Store(nil)
	slow := h.open("slow/Dockerfile", "# SLOW\n")
	fast := h.open("fast/Dockerfile", "# as root\n")
	if ds := h.diags(fast, 1); len(ds) != 1 {
		t.Fatalf("fast document: %+v", ds)
	}
	if p, _ := h.c.Latest(slow); p != nil {
		t.Fatalf("slow document published within the budget: %+v", p)
	}
	h.waitFor("a log about the slow document", func() bool { return logged(h, "takes longer than") })
	close(release)
	// When the slow diagnosis finishes, the document is published.
	if ds := h.diags(slow, 1); len(ds) != 0 {
		t.Fatalf("slow document: %+v", ds)
	}
}
