// Package editors holds the editor integrations of nonroot-ls (VS Code, Neovim, Emacs, Helix)
// and the one source of truth for their settings: the JSON schema of diagnostics.Config, from
// which editors/vscode/schemas/nonroot-ls.schema.json is generated and against which the VS Code
// extension's contributed settings and README are tested.
package editors

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// SchemaID is the $id of the generated schema.
const SchemaID = "https://github.com/nonroot-ls/nonroot-ls/editors/vscode/schemas/nonroot-ls.schema.json"

// ConfigSchema returns the JSON schema (draft-07) of `.nonroot-ls.yaml` and of the editor
// settings in section "nonroot", derived from diagnostics.Config by reflection: field names
// from the json tags, descriptions from the desc tags, required fields are those without
// omitempty. Value sets the struct cannot express (profiles, severities, rule IDs, uid
// ranges) come from the diagnostics package's own definitions.
func ConfigSchema() map[string]any {
	s := schemaOf(reflect.TypeOf(diagnostics.Config{}), "")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["$id"] = SchemaID
	s["title"] = "nonroot-ls configuration (.nonroot-ls.yaml)"
	return s
}

// ConfigSchemaJSON is ConfigSchema as indented JSON with a final newline.
func ConfigSchemaJSON() []byte {
	b, err := json.MarshalIndent(ConfigSchema(), "", "  ")
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return append(b, '\n')
}

// Profiles lists the profile names ParseProfile accepts (besides "" for the default).
func Profiles() []string {
	var out []string
	for _, p := range []diagnostics.Profile{diagnostics.ProfileKubernetes, diagnostics.ProfileOpenShift, diagnostics.ProfileDocker} {
		if _, err := diagnostics.ParseProfile(string(p)); err == nil {
			out = append(out, string(p))
		}
	}
	return out
}

// Severities lists the canonical severity names a rule can be set to.
func Severities() []string {
	var out []string
	for s := diagnostics.SeverityOff; s <= diagnostics.SeverityHint; s++ {
		out = append(out, s.String())
	}
	return out
}

func schemaOf(t reflect.Type, path string) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := map[string]any{}
	switch path {
	case "profile":
		s["enum"] = Profiles()
	case "rules":
		s["propertyNames"] = map[string]any{"pattern": "^NR[0-9]{3}$"}
	case "defaultUser.uid":
		s["minimum"], s["maximum"] = 1, 1<<31-1
	case "defaultUser.gid":
		s["minimum"], s["maximum"] = 0, 1<<31-1
	case "diagnostics.scope":
		s["enum"] = diagnostics.DiagnosticScopes()
	}
	switch t.Kind() {
	case reflect.String:
		s["type"] = "string"
	case reflect.Bool:
		s["type"] = "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s["type"] = "integer"
	case reflect.Float32, reflect.Float64:
		s["type"] = "number"
	case reflect.Slice:
		s["type"] = "array"
		s["items"] = schemaOf(t.Elem(), path+"[]")
	case reflect.Map:
		s["type"] = "object"
		v := schemaOf(t.Elem(), path+"{}")
		if path == "rules" {
			v["enum"] = Severities()
		}
		s["additionalProperties"] = v
	case reflect.Struct:
		s["type"] = "object"
		s["additionalProperties"] = false
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sub := path + "." + name
			if path == "" {
				sub = name
			}
			p := schemaOf(f.Type, sub)
			if d := f.Tag.Get("desc"); d != "" {
				p["description"] = d
			}
			props[name] = p
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		s["properties"] = props
		if len(required) > 0 {
			s["required"] = required
		}
	}
	return s
}

// SettingLeaves flattens a schema the way editors flatten settings: objects with fixed
// properties become one setting per property ("helm.valuesFiles"); maps, arrays and scalars
// are settings themselves. It returns dotted key → sub-schema.
func SettingLeaves(schema map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	var walk func(prefix string, s map[string]any)
	walk = func(prefix string, s map[string]any) {
		props, ok := s["properties"].(map[string]any)
		if s["type"] == "object" && ok && prefix != "" || prefix == "" {
			for k, v := range props {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, v.(map[string]any))
			}
			return
		}
		out[prefix] = s
	}
	walk("", schema)
	return out
}
