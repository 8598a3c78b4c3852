package dockerfile

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// FuzzModel parses arbitrary input, runs every rule, hovers every line and inspects it: it
// must never panic (the engine turns a rule's panic into an NR001 "internal error" finding,
// which fails here too), and every finding's range must lie inside the text.
func FuzzModel(f *testing.F) {
	seeds := []string{
		"", "FROM alpine\nUSER 1000\n", "FROM scratch\nUSER app\n", "# syntax=docker/dockerfile:1\nFROM alpine\nRUN <<EOF\napk add x\nEOF\n",
		"ARG B=alpine\nFROM ${B} AS a\nUSER ${U:-0}\nFROM a\nRUN sudo chown -R 1:1 /x && chmod g=u /x\nVOLUME /x\nEXPOSE 80\n",
		"# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nUSER ContainerUser\n",
		"FROM alpine\nCOPY --chown=app:app --chmod=0755 a /a\nENTRYPOINT [\"gosu\", \"app\", \"/a\"]\n",
		"FROM alpine\r\nRUN useradd -u 5 a && \\\r\n  # c\r\n  mkdir /var/lib/a\r\nUSER a\r\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	for _, glob := range []string{"../../testdata/rules/*/*/Dockerfile", "../../testdata/fixes/*/*/Dockerfile"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	dir := f.TempDir()
	base := testEngine(f).NewSnapshot([]string{dir}, diagnostics.Config{})
	path := filepath.Join(dir, "Dockerfile")
	f.Fuzz(func(t *testing.T, src string) {
		s := base.WithFile(path, 1, "dockerfile", src)
		file, err := s.File(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := file.Lines()
		for _, fd := range s.Diagnose(context.Background(), path) {
			if strings.Contains(fd.Message, "internal error") {
				t.Fatalf("%s: %s\n%v", fd.RuleID, fd.Message, fd.Data)
			}
			for _, p := range []text.Pos{fd.Range.Start, fd.Range.End} {
				if p.Line < 0 || p.Line >= lines.Count() || p.Col < 0 || p.Col > len(lines.Line(p.Line)) {
					t.Fatalf("%s: range %v outside the text", fd.RuleID, fd.Range)
				}
			}
			if fd.Range.End.Less(fd.Range.Start) {
				t.Fatalf("%s: inverted range %v", fd.RuleID, fd.Range)
			}
		}
		for l := 0; l < lines.Count() && l < 200; l++ {
			hover(context.Background(), s, file, text.Pos{Line: l, Col: 0})
		}
		ins := InspectOf(s, file, "")
		if _, err := json.Marshal(ins); err != nil {
			t.Fatal(err)
		}
	})
}
