package dockerfile

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/dockerfiletest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// dumpModel renders everything a model holds, unexported fields included, through
// reflection: a pointer to a stage or an instruction outside the lists that hold them is
// written as its indices, and the model a stage points to must be the model itself. A
// command is written with the ranges and text it computes from its line index (which may be
// a previous version's, see reuse.go).
func dumpModel(m *Model) string {
	d := &dumper{m: m}
	d.value(reflect.ValueOf(m).Elem(), true)
	return d.b.String()
}

type dumper struct {
	b strings.Builder
	m *Model
}

var (
	modelType  = reflect.TypeFor[*Model]()
	stageType  = reflect.TypeFor[*Stage]()
	instrType  = reflect.TypeFor[*Instruction]()
	linesType  = reflect.TypeFor[*text.Lines]()
	nodeType   = reflect.TypeFor[*parser.Node]()
	baseType   = reflect.TypeFor[*BaseImage]()
	cmdType    = reflect.TypeFor[*Command]()
	didYouMean = regexp.MustCompile(`\(did you mean [^)]*\?\)`)
	skipFields = map[string]bool{
		"chunks": true, "chunkTexts": true, "oldLines": true, // the reuse's own data
		"src":      true,                // compared apart
		"permOnce": true, "perms": true, // computed on demand
	}
)

func (d *dumper) value(v reflect.Value, owned bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			d.b.WriteString("nil")
			return
		}
		switch v.Type() {
		case modelType:
			if v.Pointer() != reflect.ValueOf(d.m).Pointer() {
				d.b.WriteString("ANOTHER MODEL")
				return
			}
			d.b.WriteString("model")
			return
		case linesType:
			if v.Pointer() != reflect.ValueOf(d.m.lines).Pointer() {
				d.b.WriteString("ANOTHER LINE INDEX")
				return
			}
			d.b.WriteString("lines")
			return
		case stageType:
			if !owned {
				fmt.Fprintf(&d.b, "stage#%d", v.Elem().FieldByName("Index").Int())
				return
			}
		case instrType:
			if !owned {
				e := v.Elem()
				fmt.Fprintf(&d.b, "instr#%d.%d", e.FieldByName("Stage").Elem().FieldByName("Index").Int(), e.FieldByName("Index").Int())
				return
			}
		case nodeType:
			n := v.Elem()
			fmt.Fprintf(&d.b, "node %d-%d %q", n.FieldByName("StartLine").Int(), n.FieldByName("EndLine").Int(), n.FieldByName("Original").String())
			return
		case baseType:
			fmt.Fprintf(&d.b, "base %q", v.Elem().FieldByName("Match").String())
			return
		case cmdType:
			d.value(v.Elem(), false)
			c := v.Interface().(*Command)
			fmt.Fprintf(&d.b, "range=%v name=%v sudo=%v %q args=", c.Range(), c.NameRange(), c.SudoRange(), c.String())
			for _, a := range c.Args {
				fmt.Fprintf(&d.b, "%v,", c.ArgRange(a))
			}
			return
		}
		d.value(v.Elem(), false)
	case reflect.Struct:
		t := v.Type()
		d.b.WriteString("{")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if skipFields[f.Name] || f.Name == "lines" && t == cmdType.Elem() {
				continue
			}
			d.b.WriteString(f.Name)
			d.b.WriteByte(':')
			// Stages of the model and instructions of a stage are written in full.
			d.value(v.Field(i), f.Name == "Stages" && t == modelType.Elem() || f.Name == "Instructions" && t == stageType.Elem())
			d.b.WriteString(" ")
		}
		d.b.WriteString("}\n")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			d.b.WriteString("[]")
			return
		}
		d.b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			d.value(v.Index(i), owned)
			d.b.WriteString(",")
		}
		d.b.WriteString("]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		d.b.WriteString("map[")
		for _, k := range keys {
			fmt.Fprintf(&d.b, "%v=", k)
			d.value(v.MapIndex(k), false)
			d.b.WriteString(",")
		}
		d.b.WriteString("]")
	case reflect.Interface:
		if v.IsNil() {
			d.b.WriteString("nil")
			return
		}
		fmt.Fprintf(&d.b, "%s", v.Elem().Type()) // BuildKit's typed instruction
	case reflect.String:
		str := v.String()
		if strings.Contains(str, "did you mean") {
			// BuildKit picks one of several equally close suggestions at random.
			str = didYouMean.ReplaceAllString(str, "(did you mean …?)")
		}
		d.b.WriteString(strconv.Quote(str))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Bool:
		d.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Func:
	default:
		fmt.Fprintf(&d.b, "?%s", v.Kind())
	}
}

// checkSameAsFresh parses src from prev (the previous version's model) and with no previous
// model, and fails when the two models differ in anything.
func checkSameAsFresh(t *testing.T, what string, src string, prev *Model) *Model {
	t.Helper()
	m := parse("/w/Dockerfile", src, text.NewLines(src), prev)
	fresh := parse("/w/Dockerfile", src, text.NewLines(src), nil)
	if m.src != src {
		t.Fatalf("%s: the model's source is not the text", what)
	}
	if len(m.oldLines) > maxOldLines {
		t.Fatalf("%s: the model keeps %d older line indexes", what, len(m.oldLines))
	}
	for _, st := range m.Stages {
		for _, r := range st.Runs {
			for _, c := range r.Commands {
				if c.lines != m.lines && !slices.Contains(m.oldLines, c.lines) {
					t.Fatalf("%s: a command of line %d reads a line index the model does not keep", what, r.Instr.Line()+1)
				}
			}
		}
	}
	if got, want := dumpModel(m), dumpModel(fresh); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s: the model built from the previous version differs from a fresh one:\nfrom previous: %s\nfresh:         %s\ntext:\n%s", what, gl[i], wl[i], src)
			}
		}
		t.Fatalf("%s: the model built from the previous version differs from a fresh one (%d vs %d lines)", what, len(gl), len(wl))
	}
	return m
}

// TestCachedParseEqualsFresh parses a sequence of edits (same line count, added and removed
// lines, edits in the middle and at both ends) each from the previous version's model, and
// checks each model against a parse of the same text from nothing.
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
	var prev *Model
	for i, v := range versions {
		prev = checkSameAsFresh(t, fmt.Sprintf("version %d", i), v, prev)
		if !strings.Contains(dumpModel(prev), `Path:"/app/data0"`) {
			t.Fatalf("version %d: the model misses the generated paths", i)
		}
	}
}

// editLines are lines the random edits insert: they change users, groups, variables,
// stages, paths and continuations.
var editLines = []string{
	"USER app", "USER 0", "USER ${UID}:0", "USER bob:staff", "ENV X=1", "ENV UID=7", "ARG UID=5", "ARG X", "ARG BASE=alpine",
	"RUN useradd -u 77 bob && mkdir -p /data/x && chown bob /data/x", "RUN groupadd -g 50 staff", "RUN adduser -D -u ${UID} app",
	"FROM alpine AS z", "FROM final", "FROM ${BASE}", "FROM scratch", "FROM z AS y", "WORKDIR /w", "WORKDIR sub",
	"COPY --from=build /a /b", "COPY --from=z --chown=app:0 /x /y/", "COPY --chmod=0775 a /srv/a", "ADD --chown=1 x /x",
	"# comment", "", "RUN echo $X ${UID} && sudo apk add x", `RUN ["sh", "-c", "chown 1 /x && umask 002 && mkdir /var/lib/y"]`,
	"VOLUME /var/lib/x /data", "EXPOSE 80 8080/udp", "RUN a \\", "  # a comment in a continuation", "  && chmod 775 /y \\",
	"RUN setcap cap_net_bind_service=+ep /bin/x > /tmp/log", `ENTRYPOINT ["gosu", "app", "/x"]`, "CMD exec su-exec app /x",
	"RUN install -d -o 5 -g 0 -m 0770 /var/cache/x", "USER ContainerUser", "ONBUILD RUN x", "FROBNICATE x",
}

// TestCachedParseEqualsFreshRandomEdits applies random edits (characters typed and deleted,
// lines inserted, removed, duplicated and swapped, undo) to generated and real Dockerfiles,
// parsing each version from the previous version's model, and checks every model against a
// fresh parse of the same text.
func TestCachedParseEqualsFreshRandomEdits(t *testing.T) {
	docs := []string{dockerfiletest.Generate(300), dockerfiletest.Generate(60)}
	for _, g := range []string{"../../testdata/rules/*/*/Dockerfile", "../../../shared/corpus/dockerfile/*"} {
		files, _ := filepath.Glob(g)
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				docs = append(docs, string(b))
			}
		}
	}
	edits := 40
	if testing.Short() {
		edits = 10
	}
	rng := rand.New(rand.NewSource(1))
	for d, doc := range docs {
		var prev *Model
		var history []string
		cur := doc
		for e := 0; e <= edits; e++ {
			prev = checkSameAsFresh(t, fmt.Sprintf("document %d edit %d", d, e), cur, prev)
			history = append(history, cur)
			cur = randomEdit(rng, cur, history)
		}
	}
}

func randomEdit(rng *rand.Rand, src string, history []string) string {
	l := strings.Split(src, "\n")
	n := rng.Intn(len(l))
	switch rng.Intn(9) {
	case 0: // type a character
		chars := " x0:$\\\"'#&|;/-{}"
		c := string(chars[rng.Intn(len(chars))])
		p := rng.Intn(len(l[n]) + 1)
		l[n] = l[n][:p] + c + l[n][p:]
	case 1: // delete a character
		if len(l[n]) > 0 {
			p := rng.Intn(len(l[n]))
			l[n] = l[n][:p] + l[n][p+1:]
		}
	case 2: // delete a line
		if len(l) > 1 {
			l = slices.Delete(l, n, n+1)
		}
	case 3: // duplicate a line
		l = slices.Insert(l, n, l[n])
	case 4, 5: // insert a line
		l = slices.Insert(l, n, editLines[rng.Intn(len(editLines))])
	case 6: // swap two lines
		m := rng.Intn(len(l))
		l[n], l[m] = l[m], l[n]
	case 7: // undo to an earlier version
		return history[rng.Intn(len(history))]
	case 8: // CRLF or a BOM
		if rng.Intn(2) == 0 {
			l[n] += "\r"
		} else if !strings.HasPrefix(l[0], "\xef\xbb\xbf") {
			l[0] = "\xef\xbb\xbf" + l[0]
		}
	}
	return strings.Join(l, "\n")
}

// TestCachedParseSameOffsetOtherColumn: a RUN whose text and offset are unchanged but whose
// line starts elsewhere (fewer blanks before it, one more character on the line above) has
// other columns.
func TestCachedParseSameOffsetOtherColumn(t *testing.T) {
	prev := checkSameAsFresh(t, "before", "FROM a\nENV X=1\n  RUN mkdir /p && chown 1 /p\n", nil)
	checkSameAsFresh(t, "after", "FROM a\nENV X=12\n RUN mkdir /p && chown 1 /p\n", prev)
}

// FuzzCachedParse parses b from the model of a and checks it against a fresh parse of b.
func FuzzCachedParse(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it keeps, in time quadratic in its
	// length; kilobyte seeds (a generated Dockerfile) stalled it for its minute on each.
	f.Add("FROM a\nRUN mkdir /d && chown 1:0 /d\nUSER 1\n", "FROM a\nRUN  mkdir /d && chown 1:0 /d\nUSER 1\n")
	f.Add("FROM a AS b\nRUN x \\\n  # c\n  y\nFROM b\nUSER 1\n", "FROM a AS b\nRUN x \\\n  # c\n  yz\nFROM b\nUSER 1\n")
	f.Add("ARG X=1\nFROM a\nENV Y=$X\nRUN echo $Y && mkdir /d\n", "ARG X=2\nFROM a\nENV Y=$X\nRUN echo $Y && mkdir /d\n")
	f.Add("FROM a\nCOPY --chown=1:0 x /x\nVOLUME /x\nUSER app\n", "FROM a\nRUN <<EOF\nuseradd app\nEOF\nUSER app\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		defer diagtest.FuzzGuard()()
		prev := parse("/w/Dockerfile", a, text.NewLines(a), nil)
		checkSameAsFresh(t, "b from a", b, prev)
	})
}
