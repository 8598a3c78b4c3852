package server

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func rng(l1, c1, l2, c2 uint32) protocol.Range {
	return protocol.Range{Start: protocol.Position{Line: l1, Character: c1}, End: protocol.Position{Line: l2, Character: c2}}
}

func partial(r protocol.Range, s string) protocol.TextDocumentContentChangeEvent {
	return &protocol.TextDocumentContentChangePartial{Range: r, Text: s}
}

func TestApplyChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enc     encoding
		src     string
		changes []protocol.TextDocumentContentChangeEvent
		want    string
	}{
		{"insert at 0:0", utf16, "FROM a\n", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 0, 0, 0), "# x\n")}, "# x\nFROM a\n"},
		{"after é in utf-16", utf16, "# é x\n", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 3, 0, 4), "!")}, "# é!x\n"},
		{"after é in utf-8", utf8enc, "# é x\n", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 4, 0, 5), "!")}, "# é!x\n"},
		{"after emoji (surrogate pair)", utf16, "a😀b\n", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 3, 0, 4), "c")}, "a😀c\n"},
		{"inside a surrogate pair rounds down", utf16, "a😀b", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 2, 0, 2), "x")}, "ax😀b"},
		{"inside a utf-8 sequence rounds down", utf8enc, "aéb", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 2, 0, 2), "x")}, "axéb"},
		{"CRLF lines", utf16, "FROM a\r\nUSER root\r\n", []protocol.TextDocumentContentChangeEvent{partial(rng(1, 5, 1, 9), "app")}, "FROM a\r\nUSER app\r\n"},
		{"join CRLF lines", utf16, "a\r\nb\r\n", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 1, 1, 0), "")}, "ab\r\n"},
		{"past the end clamps", utf16, "ab\ncd", []protocol.TextDocumentContentChangeEvent{partial(rng(1, 99, 7, 0), "!")}, "ab\ncd!"},
		{"sequential changes", utf16, "abc", []protocol.TextDocumentContentChangeEvent{partial(rng(0, 0, 0, 1), "é"), partial(rng(0, 1, 0, 2), "😀")}, "é😀c"},
		{"whole document", utf16, "old", []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: "new"}, partial(rng(0, 3, 0, 3), "!")}, "new!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyChanges(tc.enc, tc.src, text.NewLines(tc.src), tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := applyChanges(utf16, "abc", nil, []protocol.TextDocumentContentChangeEvent{partial(rng(0, 2, 0, 1), "")}); err == nil {
		t.Error("a range ending before its start was accepted")
	}
}

// TestEditsEqualFreshOpen sends 50 incremental edits without waiting in between (inserts at
// 0:0, multi-byte characters, CRLF) and checks the final diagnostics equal those of the same
// text opened fresh: notifications are applied in order and nothing is lost.
func TestEditsEqualFreshOpen(t *testing.T) {
	for _, enc := range []protocol.PositionEncodingKind{"utf-16", "utf-8"} {
		t.Run(string(enc), func(t *testing.T) {
			h := start(t, "", protocol.ClientCapabilities{General: &protocol.GeneralClientCapabilities{PositionEncodings: []protocol.PositionEncodingKind{enc}}}, "")
			content := "FROM alpine\r\nUSER root\r\n"
			u := h.open("Dockerfile", content)
			h.diags(u, 1)
			e := utf16
			if enc == "utf-8" {
				e = utf8enc
			}
			for v := int32(2); v <= 51; v++ {
				var r protocol.Range
				var ins string
				l := text.NewLines(content)
				switch v % 5 {
				case 0:
					ins = fmt.Sprintf("# é😀 TODO %d\r\n", v)
				case 1:
					ins = "USER root\n"
				case 2:
					last := l.Count() - 1
					p := e.fromPos(l, text.Pos{Line: last, Col: len(l.Line(last))})
					r = protocol.Range{Start: p, End: p}
					ins = "RUN echo 😀é\r\n"
				case 3:
					// Replace the first character of line 1 (it may be multi-byte).
					line := l.Line(1)
					if line == "" {
						continue
					}
					_, size := firstRune(line)
					r = e.fromRange(l, text.Range{Start: text.Pos{Line: 1}, End: text.Pos{Line: 1, Col: size}})
					ins = "ü"
				case 4:
					ins = "USER root # é\n"
				}
				start, end := l.Offset(e.toPos(l, r.Start)), l.Offset(e.toPos(l, r.End))
				content = content[:start] + ins + content[end:]
				if err := h.c.Change(h.ctx, u, v, r, ins); err != nil {
					t.Fatal(err)
				}
			}
			got := h.diags(u, 51)
			fresh := h.open("sub/Dockerfile", content)
			want := h.diags(fresh, 1)
			if len(got) == 0 || !reflect.DeepEqual(stripURIs(got), stripURIs(want)) {
				t.Fatalf("after 50 edits:\n%+v\nfresh open:\n%+v", got, want)
			}
			// The server's copy of the text is exactly the client's.
			if d := h.s.current().doc(uriPath(u)); d.text != content {
				t.Fatalf("server text diverged:\n%q\nclient:\n%q", d.text, content)
			}
		})
	}
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
}

// stripURIs removes the related-information URIs (they name the document itself).
func stripURIs(ds []protocol.Diagnostic) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, len(ds))
	for i, d := range ds {
		d.RelatedInformation = append([]protocol.DiagnosticRelatedInformation(nil), d.RelatedInformation...)
		for j := range d.RelatedInformation {
			d.RelatedInformation[j].Location.URI = ""
		}
		out[i] = d
	}
	return out
}

func TestCloseClearsDiagnostics(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	u := h.open("Dockerfile", "# as root\n")
	if ds := h.diags(u, 1); len(ds) != 1 {
		t.Fatalf("diagnostics: %v", ds)
	}
	h.c.Notify(h.ctx, protocol.MethodTextDocumentDidClose, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	h.waitFor("diagnostics cleared on close", func() bool { p, _ := h.c.Latest(u); return len(p.Diagnostics) == 0 })
	p, _ := h.c.Latest(u)
	if _, ok := p.Version.Get(); ok {
		t.Errorf("the clearing publication has a version")
	}
}

func TestFileOutsideFoldersGetsItsDirAsRoot(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	other := t.TempDir()
	// The .nonroot-ls.yaml next to the file is read: its directory became a root.
	os.WriteFile(filepath.Join(other, ".nonroot-ls.yaml"), []byte("rules:\n  NR990: error\n"), 0o644)
	u := uri.File(filepath.Join(other, "Containerfile"))
	h.c.Open(h.ctx, u, "", 1, "# as root\n")
	ds := h.diags(u, 1)
	if len(ds) != 1 || ds[0].Severity != protocol.DiagnosticSeverityError {
		t.Fatalf("diagnostics outside the folders: %+v", ds)
	}
}

func TestLanguageIDsAndNames(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	for i, tc := range []struct{ name, lang string }{
		{"Dockerfile", ""}, {"Containerfile", ""}, {"api.Dockerfile", ""}, {"Dockerfile.prod", ""}, {"build/whatever.txt", "dockerfile"},
	} {
		u := h.uri(fmt.Sprintf("%d/%s", i, tc.name))
		h.c.Open(h.ctx, u, tc.lang, 1, "# as root\n")
		if ds := h.diags(u, 1); len(ds) != 1 {
			t.Errorf("%s (language %q): %v", tc.name, tc.lang, ds)
		}
	}
	u := h.uri("notes.txt")
	h.c.Open(h.ctx, u, "plaintext", 1, "# as root\n")
	if ds := h.diags(u, 1); len(ds) != 0 {
		t.Errorf("plain text file got diagnostics: %v", ds)
	}
}

// TestBadInput: a binary file, a 10 MB line and an empty file never take the server down,
// and the other documents keep working.
func TestBadInput(t *testing.T) {
	h := start(t, "", protocol.ClientCapabilities{}, "")
	good := h.open("good/Dockerfile", "# as root\n")
	h.diags(good, 1)

	bin := h.open("bin/Dockerfile", "FROM a\n\x00\x01\x02\xff\xfe")
	ds := h.diags(bin, 1)
	if len(ds) != 1 || codes(ds)[0] != "NR001" || !strings.Contains(messageOf(ds[0]), "binary") {
		t.Errorf("binary file: %+v", ds)
	}
	huge := h.open("huge/Dockerfile", "FROM alpine\nRUN echo "+strings.Repeat("é", 5<<20)+"\nUSER root\n")
	h.diags(huge, 1)
	empty := h.open("empty/Dockerfile", "")
	if ds := h.diags(empty, 1); len(ds) != 0 {
		t.Errorf("empty file: %+v", ds)
	}
	h.c.Change(h.ctx, good, 2, rng(0, 0, 0, 0), "# as root\n")
	if ds := h.diags(good, 2); len(ds) != 2 {
		t.Errorf("the good document after bad ones: %+v", ds)
	}
	var hv protocol.Hover
	if err := h.c.Call(h.ctx, protocol.MethodTextDocumentHover, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: huge}, Position: protocol.Position{Line: 2, Character: 6}}}, &hv); err != nil {
		t.Errorf("hover in the huge file: %v", err)
	}
	if code := h.shutdown(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func messageOf(d protocol.Diagnostic) string {
	s, _ := d.Message.(protocol.String)
	return string(s)
}
