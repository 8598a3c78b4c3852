package dockerfile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
)

// dumpModel renders everything the rules read from a model, with positions.
func dumpModel(m *Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fatal=%v escape=%q meta=%v problems=%v\n", m.Fatal, m.Escape, m.MetaArgs, m.Problems)
	for _, st := range m.Stages {
		fmt.Fprintf(&b, "stage %d %q base=%q raw=%q %v scratch=%v win=%v unresolved=%v parent=%v\n", st.Index, st.Name, st.BaseName, st.BaseRaw, st.BaseRange, st.Scratch, st.Windows, st.BaseUnresolved, st.Parent != nil)
		fmt.Fprintf(&b, "  initial %s / %s; user %s / %s %v\n", st.Initial.Describe(), st.Initial.From(), st.User().Describe(), st.User().From(), st.User().Range())
		for _, in := range st.Instructions {
			fmt.Fprintf(&b, "  %s %d-%d start=%d end=%d flags=%d args=%d first=%d %v user=%s envLen=%d\n", in.Cmd, in.Node.StartLine, in.Node.EndLine, in.Start, in.End, in.FlagsAt, in.ArgsAt, in.FirstEnd, in.ArgsRange(), in.User().Describe(), in.envLen)
		}
		for _, p := range st.Paths {
			fmt.Fprintf(&b, "  path %s owner=%q/%v group=%q/%v mode=%q bits=%o rec=%v op=%s %v line=%d\n", p.Path, p.Owner, deref(p.UID), p.Group, deref(p.GID), p.Mode, p.bits, p.Recursive, p.Op, p.Range, p.Instr.Line())
		}
		for _, c := range st.Created {
			fmt.Fprintf(&b, "  created %s uid=%v gid=%v %v at=%d\n", c.Name, deref(c.UID), deref(c.GID), c.Range, c.NameAt)
		}
		for _, g := range st.Groups {
			fmt.Fprintf(&b, "  group %s gid=%v %v\n", g.Name, deref(g.GID), g.Range)
		}
		for _, r := range st.Runs {
			fmt.Fprintf(&b, "  run line=%d user=%s wd=%s err=%q single=%v writes=%v\n", r.Instr.Line(), r.User.Describe(), r.Workdir, r.ParseError, r.Single, r.Writes)
			for _, c := range r.Commands {
				fmt.Fprintf(&b, "    %s %v %v\n", c, c.Range(), c.NameRange())
			}
		}
		for _, p := range append(append([]Port(nil), st.Volumes...), st.Ports...) {
			fmt.Fprintf(&b, "  port/volume %s %d %q %v line=%d\n", p.Value, p.Number, p.Protocol, p.Range, p.Instr.Line())
		}
		fmt.Fprintf(&b, "  setcaps=%v deps=%d\n", st.Setcaps, len(st.DependsOn))
		for _, c := range st.Copies {
			fmt.Fprintf(&b, "  copy %s %v from=%q chown=%q chmod=%q\n", c.Dest, c.Sources, c.From, c.Chown, c.Chmod)
		}
	}
	return b.String()
}

// TestCachedParseEqualsFresh parses a sequence of edits (same line count, added and removed
// lines, edits in the middle and at both ends) with the parse caches warm, and checks each
// model against a parse of the same text with empty caches.
func TestCachedParseEqualsFresh(t *testing.T) {
	src, edit := dockerfiletest.Generate(600), dockerfiletest.EditLine(600)
	lines := strings.Split(src, "\n")
	var versions []string
	versions = append(versions, src)
	for i := 0; i < 6; i++ {
		l := append([]string(nil), lines...)
		switch i {
		case 0, 1: // the lspbench edit: a blank appended to a RUN line
			l[edit] += strings.Repeat(" ", i+1)
		case 2: // a line added before the edited stage
			l = append(l[:5], append([]string{"RUN mkdir -p /x && chown 1:0 /x"}, l[5:]...)...)
		case 3: // a line removed
			l = append(l[:edit], l[edit+1:]...)
		case 4: // the USER changed at the end
			l[len(l)-3] = "USER app:0"
		case 5: // a FROM changed
			l[12] = "FROM debian:bookworm AS final2"
		}
		versions = append(versions, strings.Join(l, "\n"))
	}
	versions = append(versions, src, versions[1], src)
	for i, v := range versions {
		cached := dumpModel(Parse("/w/Dockerfile", v))
		oldChunks, oldScans := chunkCache, scanCache
		chunkCache, scanCache = newGenCache[*chunkResult](512), newGenCache[*scanResult](2048)
		fresh := dumpModel(Parse("/w/Dockerfile", v))
		chunkCache, scanCache = oldChunks, oldScans
		if cached != fresh {
			t.Errorf("version %d: the cached parse differs from a fresh one:\ncached:\n%s\nfresh:\n%s", i, cached, fresh)
		}
		if !strings.Contains(cached, "path /app/data0") {
			t.Fatalf("version %d: the model misses the generated paths:\n%s", i, cached)
		}
	}
}
