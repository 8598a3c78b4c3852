package editors

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

var update = flag.Bool("update", false, "rewrite editors/vscode/schemas/nonroot-ls.schema.json")

const schemaPath = "vscode/schemas/nonroot-ls.schema.json"

// clientOnly are the extension's own settings, never sent to the server.
var clientOnly = map[string]bool{"server.path": true, "trace.server": true}

// TestSchemaFileIsGenerated: the schema VS Code (and yaml-language-server) validate
// .nonroot-ls.yaml with is exactly the one derived from diagnostics.Config.
func TestSchemaFileIsGenerated(t *testing.T) {
	want := ConfigSchemaJSON()
	if *update {
		if err := os.WriteFile(schemaPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go test ./editors -run TestSchemaFileIsGenerated -update`", schemaPath)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func contributedSettings(t *testing.T) map[string]map[string]any {
	t.Helper()
	pkg := readJSON(t, "vscode/package.json")
	props := pkg["contributes"].(map[string]any)["configuration"].(map[string]any)["properties"].(map[string]any)
	out := map[string]map[string]any{}
	for k, v := range props {
		if !strings.HasPrefix(k, "nonroot.") {
			t.Errorf("package.json: setting %q is outside the nonroot section", k)
			continue
		}
		out[strings.TrimPrefix(k, "nonroot.")] = v.(map[string]any)
	}
	return out
}

// stripDocs removes descriptions so that schemas compare by meaning.
func stripDocs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			switch k {
			case "description", "markdownDescription", "enumDescriptions", "default", "scope", "order":
				continue
			}
			m[k] = stripDocs(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripDocs(e)
		}
		return out
	}
	return v
}

// normalize round-trips through JSON so Go values compare with decoded ones.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVSCodeSettingsMatchConfig: every key of diagnostics.Config is a contributed setting with
// the same type, value set and item schema, and there is no other server setting.
func TestVSCodeSettingsMatchConfig(t *testing.T) {
	leaves := SettingLeaves(ConfigSchema())
	got := contributedSettings(t)
	for key, want := range leaves {
		c, ok := got[key]
		if !ok {
			t.Errorf("package.json lacks setting nonroot.%s (a key of diagnostics.Config)", key)
			continue
		}
		w := stripDocs(normalize(t, want)).(map[string]any)
		g := stripDocs(normalize(t, c)).(map[string]any)
		// Editor settings may be null (unset) and profile may be "" (detect).
		if ts, ok := g["type"].([]any); ok && len(ts) == 2 && ts[1] == "null" {
			g["type"] = ts[0]
		}
		if e, ok := g["enum"].([]any); ok && len(e) > 0 && e[0] == "" {
			g["enum"] = e[1:]
		}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.MarshalIndent(g, "", " ")
			wj, _ := json.MarshalIndent(w, "", " ")
			t.Errorf("setting nonroot.%s differs from diagnostics.Config:\npackage.json: %s\nconfig:       %s", key, gj, wj)
		}
	}
	for key := range got {
		if _, ok := leaves[key]; !ok && !clientOnly[key] {
			t.Errorf("package.json contributes nonroot.%s, which diagnostics.Config does not have", key)
		}
	}
	for key := range clientOnly {
		if _, ok := got[key]; !ok {
			t.Errorf("package.json lacks the extension setting nonroot.%s", key)
		}
	}
}

// TestExtensionSendsConfigKeys: the keys the extension forwards to the server (SERVER_KEYS in
// src/settings.ts) are exactly the top-level keys of diagnostics.Config.
func TestExtensionSendsConfigKeys(t *testing.T) {
	src, err := os.ReadFile("vscode/src/settings.ts")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`SERVER_KEYS = \[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("SERVER_KEYS not found in vscode/src/settings.ts")
	}
	var got []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(m[1], -1) {
		got = append(got, string(q[1]))
	}
	var want []string
	for k := range ConfigSchema()["properties"].(map[string]any) {
		want = append(want, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SERVER_KEYS = %v, diagnostics.Config keys = %v", got, want)
	}
}

// TestREADMESettingsTable: the settings table of the extension's README lists exactly the
// contributed settings.
func TestREADMESettingsTable(t *testing.T) {
	readme, err := os.ReadFile("vscode/README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `nonroot\\.([A-Za-z.]+)`").FindAllSubmatch(readme, -1)
	inTable := map[string]bool{}
	for _, r := range rows {
		inTable[string(r[1])] = true
	}
	for key := range contributedSettings(t) {
		if !inTable[key] {
			t.Errorf("vscode/README.md settings table lacks nonroot.%s", key)
		}
		delete(inTable, key)
	}
	for key := range inTable {
		t.Errorf("vscode/README.md settings table lists nonroot.%s, which package.json does not contribute", key)
	}
}

// TestSettingsParseStrictly: a settings object with every server key, as the extension sends
// it, is a valid configuration for the engine's strict parser.
func TestSettingsParseStrictly(t *testing.T) {
	settings := map[string]any{
		"profile":     "openshift",
		"rules":       map[string]any{},
		"defaultUser": map[string]any{"uid": 1001, "gid": 0},
		"images":      []any{map[string]any{"image": "ghcr.io/acme/api", "dockerfile": "api/Dockerfile", "target": "prod"}},
		"helm":        map[string]any{"valuesFiles": []any{"values-prod.yaml"}},
		"kustomize":   map[string]any{"roots": []any{"base"}},
		"ignore":      []any{"vendor/**"},
		"diagnostics": map[string]any{"scope": "openFiles"},
	}
	for k := range ConfigSchema()["properties"].(map[string]any) {
		if _, ok := settings[k]; !ok {
			t.Fatalf("test settings lack key %q of diagnostics.Config", k)
		}
	}
	b, _ := json.Marshal(settings)
	c, err := diagnostics.ParseConfig(b)
	if err != nil {
		t.Fatalf("ParseConfig(%s): %v", b, err)
	}
	if uid, gid := c.User(); uid != 1001 || gid != 0 {
		t.Errorf("User() = %d:%d, want 1001:0", uid, gid)
	}
	if c.ProfileOrDefault() != diagnostics.ProfileOpenShift || len(c.Images) != 1 || c.Helm == nil || len(c.Helm.ValuesFiles) != 1 || c.Kustomize == nil || len(c.Kustomize.Roots) != 1 || !c.Ignored("vendor/x/Dockerfile") || c.DiagnosticsScope() != diagnostics.ScopeOpenFiles {
		t.Errorf("ParseConfig lost values: %+v", c)
	}
}
