package yamlnode

import (
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func doc(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

// TestMergeKeys checks that Get and Pairs apply merge keys: own keys win over merged ones,
// earlier merges over later ones, a quoted "<<" is an ordinary key, and a merge loop ends.
func TestMergeKeys(t *testing.T) {
	m := doc(t, "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n  \"<<\": q\n")
	c := Value(m, "c")
	for key, want := range map[string]string{"x": "3", "y": "1", "z": "2", "<<": "q", "w": ""} {
		if got := Str(Value(c, key)); got != want {
			t.Errorf("Get(c, %q) = %q, want %q", key, got, want)
		}
	}
	var keys []string
	for _, p := range Pairs(c) {
		keys = append(keys, p.Key.Value+"="+p.Value.Value)
	}
	if got := strings.Join(keys, " "); got != "x=3 <<=q y=1 z=2" {
		t.Errorf("Pairs(c) = %s", got)
	}
	loop := doc(t, "a: &a [*a]\nb:\n  <<: *a\n")
	if k, _ := Get(Value(loop, "b"), "x"); k != nil || len(Pairs(Value(loop, "b"))) != 0 {
		t.Errorf("merge loop found something")
	}
}

func TestKeyValueRange(t *testing.T) {
	src := "build: ./web  # here\nother:\n  x: 1\n"
	m, lines := doc(t, src), text.NewLines(src)
	k, v := Get(m, "build")
	if got := KeyValueRange(lines, k, v).String(); got != "1:1-1:13" {
		t.Errorf("build: %s", got)
	}
	k, v = Get(m, "other")
	if got := KeyValueRange(lines, k, v).String(); got != "2:1-2:6" {
		t.Errorf("other: %s", got)
	}
}
