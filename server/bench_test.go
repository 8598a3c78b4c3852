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
// Dockerfile. Every edit alternately appends and removes a character on a RUN line.
func BenchmarkEditToPublish(b *testing.B) {
	for _, n := range []int{60, 2000} {
		b.Run(strconv.Itoa(n)+"-lines", func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a, p := net.Pipe()
			go New(Options{}).Run(ctx, a)
			c := lspclient.New(ctx, p)
			defer c.Close()
			dir := b.TempDir()
			init := &protocol.InitializeParams{}
			init.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(dir), Name: "bench"}})
			if _, err := c.Initialize(ctx, init); err != nil {
				b.Fatal(err)
			}
			u := uri.File(filepath.Join(dir, "Dockerfile"))
			src := dockerfiletest.Generate(n)
			c.Open(ctx, u, "dockerfile", 1, src)
			if _, err := c.Diagnostics(ctx, u, 1); err != nil {
				b.Fatal(err)
			}
			line := uint32(dockerfiletest.EditLine(n))
			end := uint32(len(strings.Split(src, "\n")[line]))
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
