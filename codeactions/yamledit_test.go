package codeactions

import (
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

func parseDocs(t *testing.T, src string) []*yaml.Node {
	t.Helper()
	var docs []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(src))
	for {
		var d yaml.Node
		if err := dec.Decode(&d); err != nil {
			break
		}
		docs = append(docs, &d)
	}
	if len(docs) == 0 {
		t.Fatalf("no documents in %q", src)
	}
	return docs
}

// at follows keys (and "0"-style indexes) from the document root.
func at(n *yaml.Node, path ...string) *yaml.Node {
	n = n.Content[0]
	for _, p := range path {
		if n.Kind == yaml.SequenceNode {
			i := int(p[0] - '0')
			n = n.Content[i]
			continue
		}
		_, n = lookup(n, p)
	}
	return n
}

func TestYAMLSet(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		at        []string
		path      []string
		v         YAMLValue
		want      string
	}{
		{"new block, 2 spaces, comment kept", "spec:\n  # the app\n  containers:\n  - name: a\n    image: x # pinned\n", []string{"spec", "containers", "0"}, []string{"securityContext", "allowPrivilegeEscalation"}, Scalar("false"),
			"spec:\n  # the app\n  containers:\n  - name: a\n    image: x # pinned\n    securityContext:\n      allowPrivilegeEscalation: false\n"},
		{"4 spaces, indented sequences", "spec:\n    containers:\n        - name: a\n          image: x\n    restartPolicy: Always\n", []string{"spec"}, []string{"securityContext", "runAsNonRoot"}, Scalar("true"),
			"spec:\n    containers:\n        - name: a\n          image: x\n    restartPolicy: Always\n    securityContext:\n        runAsNonRoot: true\n"},
		{"existing mapping gets a key", "spec:\n  securityContext:\n    runAsUser: 1000\n  containers: []\n", []string{"spec"}, []string{"securityContext", "runAsNonRoot"}, Scalar("true"),
			"spec:\n  securityContext:\n    runAsUser: 1000\n    runAsNonRoot: true\n  containers: []\n"},
		{"replace scalar", "sc:\n  runAsUser: 0 # root\n", nil, []string{"sc", "runAsUser"}, Scalar("10001"), "sc:\n  runAsUser: 10001 # root\n"},
		{"flow mapping stays flow", "sc: {runAsUser: 1000}\n", nil, []string{"sc", "runAsNonRoot"}, Scalar("true"), "sc: {runAsUser: 1000, runAsNonRoot: true}\n"},
		{"empty flow mapping", "sc: {}\n", nil, []string{"sc", "seccompProfile"}, Map(Entry("type", Scalar("RuntimeDefault"))), "sc: {seccompProfile: {type: RuntimeDefault}}\n"},
		{"two keys into an empty flow mapping", "s: {sc: {}}\n", []string{"s"}, []string{"sc"}, Map(Entry("runAsNonRoot", Scalar("true")), Entry("runAsUser", Scalar("10001"))), "s: {sc: {runAsNonRoot: true, runAsUser: 10001}}\n"},
		{"two keys into a flow mapping, one there", "sc: {runAsUser: 0}\n", nil, []string{"sc"}, Map(Entry("runAsNonRoot", Scalar("true")), Entry("runAsUser", Scalar("10001")), Entry("runAsGroup", Scalar("0"))), "sc: {runAsUser: 10001, runAsNonRoot: true, runAsGroup: 0}\n"},
		{"null value", "sc:\nother: 1\n", nil, []string{"sc", "runAsNonRoot"}, Scalar("true"), "sc:\n  runAsNonRoot: true\nother: 1\n"},
		{"block seq append, non-indented", "caps:\n  drop:\n  - NET_RAW\n", nil, []string{"caps", "drop"}, Seq("ALL"), "caps:\n  drop:\n  - NET_RAW\n  - ALL\n"},
		{"flow seq append", "caps:\n  drop: [NET_RAW]\n", nil, []string{"caps", "drop"}, Seq("ALL"), "caps:\n  drop: [NET_RAW, ALL]\n"},
		{"new seq in a flow-seq file", "a: [x]\nsc:\n  runAsUser: 1\n", nil, []string{"sc", "capabilities", "drop"}, Seq("ALL"), "a: [x]\nsc:\n  runAsUser: 1\n  capabilities:\n    drop: [ALL]\n"},
		{"new seq in a block file, indented", "l:\n  - x\nsc:\n  runAsUser: 1\n", nil, []string{"sc", "capabilities", "drop"}, Seq("ALL"), "l:\n  - x\nsc:\n  runAsUser: 1\n  capabilities:\n    drop:\n      - ALL\n"},
		{"already there", "sc:\n  drop: [ALL]\n", nil, []string{"sc", "drop"}, Seq("ALL"), "sc:\n  drop: [ALL]\n"},
		{"no trailing newline", "sc:\n  a: 1", nil, []string{"sc", "b"}, Scalar("2"), "sc:\n  a: 1\n  b: 2"},
		{"block scalar last", "c:\n  args: |\n    run\n    more\n\n# next\nd: 1\n", nil, []string{"c", "x"}, Scalar("1"), "c:\n  args: |\n    run\n    more\n  x: 1\n\n# next\nd: 1\n"},
		{"json multi-line", "{\n  \"spec\": {\n    \"containers\": []\n  }\n}\n", []string{"spec"}, []string{"securityContext", "runAsNonRoot"}, Scalar("true"),
			"{\n  \"spec\": {\n    \"containers\": [],\n    \"securityContext\": {\"runAsNonRoot\": true}\n  }\n}\n"},
		{"json multi-line, two keys", "{\n  \"spec\": {\n    \"containers\": []\n  }\n}\n", nil, []string{"spec"}, Map(Entry("a", Scalar("1")), Entry("b", Scalar("2"))),
			"{\n  \"spec\": {\n    \"containers\": [],\n    \"a\": 1,\n    \"b\": 2\n  }\n}\n"},
		{"json string", "{\"a\": {\"b\": 1}}", []string{"a"}, []string{"type"}, Scalar("RuntimeDefault"), "{\"a\": {\"b\": 1, \"type\": \"RuntimeDefault\"}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, crlf := range []bool{false, true} {
				src, want := tc.src, tc.want
				if crlf {
					src, want = strings.ReplaceAll(src, "\n", "\r\n"), strings.ReplaceAll(want, "\n", "\r\n")
				}
				docs := parseDocs(t, src)
				e := NewYAMLEditor(src, docs)
				edits, err := e.Set(at(docs[0], tc.at...), tc.path, tc.v)
				if err != nil {
					t.Fatal(err)
				}
				got, err := text.Apply(src, edits)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("crlf=%v\ngot:\n%s\nwant:\n%s", crlf, got, want)
				}
				parseDocs(t, got)
			}
		})
	}
}

func TestYAMLRemove(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"own line", "sc:\n  privileged: true # why\n  runAsUser: 1\n", "sc:\n  runAsUser: 1\n"},
		{"after dash", "- privileged: true\n  runAsUser: 1\n", "- runAsUser: 1\n"},
		{"flow middle", "sc: {privileged: true, runAsUser: 1}\n", "sc: {runAsUser: 1}\n"},
		{"flow last", "sc: {runAsUser: 1, privileged: true}\n", "sc: {runAsUser: 1}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := parseDocs(t, tc.src)
			e := NewYAMLEditor(tc.src, docs)
			m := docs[0].Content[0]
			if m.Kind == yaml.SequenceNode {
				m = m.Content[0]
			} else {
				m = m.Content[1]
			}
			ed, err := e.Remove(m, "privileged")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := text.Apply(tc.src, []text.Edit{ed})
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	docs := parseDocs(t, "sc:\n  privileged: true\n")
	if _, err := NewYAMLEditor("sc:\n  privileged: true\n", docs).Remove(docs[0].Content[0].Content[1], "privileged"); err == nil {
		t.Error("removing the only key should fail")
	}
}

func TestDetectYAMLStyle(t *testing.T) {
	src := "a:\n    b:\n        c: 1\n    l:\n    - x\n"
	st := DetectYAMLStyle(src, parseDocs(t, src))
	if st.Indent != 4 || st.SeqIndent != 0 || st.FlowSeq || st.JSON || st.EOL != "\n" {
		t.Errorf("style %+v", st)
	}
}

// FuzzYAMLSet: on any YAML whose document is a mapping, Set either refuses or produces text
// that parses and holds the value at the path, with every comment line kept.
func FuzzYAMLSet(f *testing.F) {
	for _, s := range []string{"a: 1\nspec: 2\n", "- spec: 1\n  a: 2\n", "{a: 1, spec: [x, y]}", "spec:\n  x: 1\n# c\nb: 2\n", "a: 1\n", "spec:\n  x: [1]\n", "spec: {a: b}\n", "spec:\n", "spec: ~\n", "# c\nspec:\n  # d\n  a: |\n    x\n", "{\"spec\": {\"a\": 1}}", "spec:\n    - a\n", "spec:\n  sc: {}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || len(src) > 4096 {
			return
		}
		if root := doc.Content[0]; root.Style&yaml.FlowStyle != 0 {
			l := text.NewLines(src)
			end := (&YAMLEditor{Lines: l}).closing(l.FromRunes(root.Line-1, root.Column-1))
			if l.Offset(end) != len(strings.TrimRight(src, " \n")) {
				return // yaml.v3 ignores text after a root flow mapping ("{}0:"): not a real document
			}
		}
		if _, err := sigsyaml.YAMLToJSON([]byte(src)); err != nil {
			return // not YAML that Kubernetes tooling (sigs.k8s.io/yaml) accepts
		}
		if strings.ContainsAny(src, "\t\r&*!%@`?|>") || strings.Contains(src, "<<") {
			return // tabs, lone CRs, anchors, tags, merges, explicit keys and block scalars in odd places are outside what the editor promises
		}
		docs := []*yaml.Node{&doc}
		if ed, err := NewYAMLEditor(src, docs).Remove(doc.Content[0], "spec"); err == nil {
			out, err := text.Apply(src, []text.Edit{ed})
			if err != nil {
				t.Fatal(err)
			}
			var after yaml.Node
			if err := yaml.Unmarshal([]byte(out), &after); err != nil || len(after.Content) == 0 {
				t.Fatalf("Remove: result does not parse: %v\nbefore:\n%s\nafter:\n%s", err, src, out)
			}
			if k, _ := lookup(after.Content[0], "spec"); k != nil {
				t.Fatalf("Remove: spec still there\nbefore:\n%s\nafter:\n%s", src, out)
			}
			if len(after.Content[0].Content) != len(doc.Content[0].Content)-2 {
				t.Fatalf("Remove: other keys lost\nbefore:\n%s\nafter:\n%s", src, out)
			}
		}
		for _, tc := range []struct {
			path []string
			v    YAMLValue
			want string
		}{
			{[]string{"spec", "sc", "runAsNonRoot"}, Scalar("true"), "true"},
			{[]string{"spec", "drop"}, Seq("ALL"), "ALL"},
			{[]string{"spec"}, Map(Entry("type", Scalar("RuntimeDefault"))), "RuntimeDefault"},
		} {
			e := NewYAMLEditor(src, docs)
			edits, err := e.Set(doc.Content[0], tc.path, tc.v)
			if err != nil || len(edits) == 0 {
				continue
			}
			out, err := text.Apply(src, edits)
			if err != nil {
				t.Fatal(err)
			}
			var after yaml.Node
			if err := yaml.Unmarshal([]byte(out), &after); err != nil {
				t.Fatalf("Set %v: result does not parse: %v\nbefore:\n%s\nafter:\n%s", tc.path, err, src, out)
			}
			v := after.Content[0]
			path := tc.path
			if tc.v.kind == 2 {
				path = append(append([]string(nil), path...), "type")
			}
			for _, k := range path {
				if v == nil || v.Kind != yaml.MappingNode {
					v = nil
					break
				}
				_, v = lookup(v, k)
			}
			ok := v != nil && v.Value == tc.want
			if v != nil && v.Kind == yaml.SequenceNode {
				for _, c := range v.Content {
					ok = ok || c.Value == tc.want
				}
			}
			if !ok {
				t.Fatalf("Set %v: value not there\nbefore:\n%s\nafter:\n%s", tc.path, src, out)
			}
			for _, l := range strings.Split(src, "\n") {
				if c := strings.TrimSpace(l); strings.HasPrefix(c, "#") && !strings.Contains(out, c) {
					t.Fatalf("comment %q dropped", c)
				}
			}
		}
	})
}

func TestYAMLRemoveItem(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		i         int
		want      string
	}{
		{"block middle", "add:\n- A # a\n- B\n- C\n", 1, "add:\n- A # a\n- C\n"},
		{"block last, no newline", "add:\n  - A\n  - B", 1, "add:\n  - A\n"},
		{"flow first", "add: [A, B]\n", 0, "add: [B]\n"},
		{"flow last", "add: [\"A\", \"B\"]\n", 1, "add: [\"A\"]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := parseDocs(t, tc.src)
			ed, err := NewYAMLEditor(tc.src, docs).RemoveItem(docs[0].Content[0].Content[1], tc.i)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := text.Apply(tc.src, []text.Edit{ed})
			if got != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
	docs := parseDocs(t, "add: [A]\n")
	if _, err := NewYAMLEditor("add: [A]\n", docs).RemoveItem(docs[0].Content[0].Content[1], 0); err == nil {
		t.Error("removing the only item should fail")
	}
}
