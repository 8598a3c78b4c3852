package server

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube/kubetest"
	"github.com/nonroot-ls/nonroot-ls/server/lspclient"
)

func TestGenerateDockerfile(t *testing.T) {
	for _, n := range []int{60, 2000} {
		src := dockerfiletest.Generate(n)
		if got := strings.Count(src, "\n"); got != n {
			t.Errorf("%d lines asked, %d generated", n, got)
		}
		if l := strings.Split(src, "\n")[dockerfiletest.EditLine(n)]; !strings.HasPrefix(l, "RUN ") {
			t.Errorf("edit line %q", l)
		}
	}
}

// BenchmarkEditToPublish measures one incremental didChange until its publishDiagnostics
// arrives, over an in-memory pipe, for a 60-line and a generated 2,000-line multi-stage
// Dockerfile and for the 84-line and 3,000-line manifests of lspbench -manifests. Every edit
// alternately appends and removes a character at the end of a line.
func BenchmarkEditToPublish(b *testing.B) {
	type doc struct {
		name, file, languageID, src string
		line                        int
	}
	var docs []doc
	for _, n := range []int{60, 2000} {
		docs = append(docs, doc{strconv.Itoa(n) + "-lines", "Dockerfile", "dockerfile", dockerfiletest.Generate(n), dockerfiletest.EditLine(n)})
	}
	for _, n := range []int{84, 3000} {
		docs = append(docs, doc{"manifest-" + strconv.Itoa(n) + "-lines", "deploy.yaml", "yaml", kubetest.Generate(n), kubetest.EditLine})
	}
	for _, d := range docs {
		b.Run(d.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a, p := net.Pipe()
			go New(Options{NewEngine: testEngine}).Run(ctx, a)
			c := lspclient.New(ctx, p)
			defer c.Close()
			dir := b.TempDir()
			init := &protocol.InitializeParams{}
			init.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(dir), Name: "bench"}})
			if _, err := c.Initialize(ctx, init); err != nil {
				b.Fatal(err)
			}
			u := uri.File(filepath.Join(dir, d.file))
			c.Open(ctx, u, d.languageID, 1, d.src)
			if _, err := c.Diagnostics(ctx, u, 1); err != nil {
				b.Fatal(err)
			}
			line := uint32(d.line)
			end := uint32(len(strings.Split(d.src, "\n")[line]))
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
			defer wcancel()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v := int32(i + 2)
				r := protocol.Range{Start: protocol.Position{Line: line, Character: end}, End: protocol.Position{Line: line, Character: end}}
				text := " "
				if i%2 == 1 {
					r.Start.Character = end
					r.End.Character = end + 1
					text = ""
				}
				if err := c.Change(wctx, u, v, r, text); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Diagnostics(wctx, u, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
