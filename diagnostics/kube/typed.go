package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// typed decodes the pod spec and template metadata into Kubernetes' own types, the way the
// API server's JSON decoding would, but field by field: a value its field cannot hold (a
// string for an integer, a quantity that is not one) is left out and reported, and the rest
// of the spec is still read. In an OpenShift Template a `${NAME}` parameter takes its default
// from the template's parameters; one without a default, or whose default its field cannot
// hold, is left out without a report (the template is processed before it is applied).
func (m *Manifest) typed(w *Workload) {
	w.PodSpec, w.PodMeta = &corev1.PodSpec{}, &metav1.ObjectMeta{}
	var params map[string]string
	if p := w.Object.Parent; p != nil && p.Kind == "Template" {
		params = templateParams(p.Node)
	}
	decode := func(n *yaml.Node, dst any) {
		if n == nil {
			return
		}
		skip := map[*yaml.Node]bool{}
		for round := 0; round < 4; round++ {
			v, err := toValue(n, &budget{skip: skip, params: params}, 0)
			if err != nil {
				m.problem(yamlnode.Range(m.Lines, n), "cannot read this object: "+err.Error())
				return
			}
			data, err := json.Marshal(v)
			if err != nil {
				return
			}
			reset(dst)
			if json.Unmarshal(data, dst) == nil {
				return
			}
			// encoding/json stops at the first value it cannot decode, and names no field
			// for a type's own decoder's error: find every such value, leave them out, again.
			bad := badValues(n, reflect.TypeOf(dst).Elem(), &budget{skip: skip, params: params})
			if len(bad) == 0 {
				return
			}
			for _, b := range bad {
				skip[b.node] = true
				if params != nil && placeholder.MatchString(b.node.Value) {
					continue
				}
				p := diagnostics.Problem{Range: yamlnode.Range(m.Lines, b.node), Message: fmt.Sprintf("%s: %s: the API server rejects the object", fieldName(b.field), b.why)}
				w.TypeErrors = append(w.TypeErrors, p)
				m.Problems = append(m.Problems, p)
			}
		}
	}
	decode(w.Spec, w.PodSpec)
	decode(yamlnode.Resolve(w.Metadata), w.PodMeta)
}

func reset(dst any) {
	switch d := dst.(type) {
	case *corev1.PodSpec:
		*d = corev1.PodSpec{}
	case *metav1.ObjectMeta:
		*d = metav1.ObjectMeta{}
	}
}

// placeholder matches an OpenShift Template parameter reference: ${NAME}, or ${{NAME}} for
// a value that is not a string.
var placeholder = regexp.MustCompile(`\$\{\{?([A-Za-z0-9_]+)\}?\}`)

// templateParams returns the defaults (value:) of a Template's parameters by name; a
// parameter without one maps to nothing. The map is never nil.
func templateParams(tmpl *yaml.Node) map[string]string {
	out := map[string]string{}
	for _, p := range yamlnode.Items(valueOf(tmpl, "parameters")) {
		name, v := valueOf(p, "name"), valueOf(p, "value")
		if name != nil && v != nil && v.Kind == yaml.ScalarNode {
			out[name.Value] = v.Value
		}
	}
	return out
}

// substitute replaces the template parameters of a scalar that has some by their defaults:
// a scalar that is one plain ${NAME}, or a ${{NAME}}, becomes the default read as YAML
// (${{REPLICAS}} with default 2 is the number 2), anything else a string. False when the
// scalar has no parameter with a default.
func substitute(n *yaml.Node, params map[string]string) (any, bool) {
	if len(params) == 0 || !strings.Contains(n.Value, "${") {
		return nil, false
	}
	if sm := placeholder.FindStringSubmatchIndex(n.Value); sm != nil && sm[0] == 0 && sm[1] == len(n.Value) {
		def, ok := params[n.Value[sm[2]:sm[3]]]
		if !ok {
			return nil, false
		}
		if n.Style == 0 || strings.HasPrefix(n.Value, "${{") {
			return scalarValue(&yaml.Node{Kind: yaml.ScalarNode, Value: def}), true
		}
		return def, true
	}
	done := false
	out := placeholder.ReplaceAllStringFunc(n.Value, func(ref string) string {
		if def, ok := params[placeholder.FindStringSubmatch(ref)[1]]; ok {
			done = true
			return def
		}
		return ref
	})
	return out, done
}

// badValue is a value its field cannot hold.
type badValue struct {
	node  *yaml.Node
	field string // the field's path as encoding/json names it ("containers.ports.containerPort")
	why   string
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// badValues walks n against the Go type t it decodes into and returns the values that do not
// decode on their own: a scalar where an object is expected, a string for an integer, a
// quantity that is not one. Fields t does not have are ignored, as encoding/json does.
func badValues(n *yaml.Node, t reflect.Type, b *budget) []badValue {
	var out []badValue
	fields := map[reflect.Type]map[string]reflect.Type{}
	var walk func(n *yaml.Node, t reflect.Type, path string, depth int)
	walk = func(n *yaml.Node, t reflect.Type, path string, depth int) {
		n = yamlnode.Resolve(n)
		if n == nil || b.skip[n] || depth > maxDepth {
			return
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case reflect.PointerTo(t).Implements(unmarshaler), n.Kind == yaml.ScalarNode:
		case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
			fs := fields[t]
			if fs == nil {
				fs = jsonFields(t)
				fields[t] = fs
			}
			eachPair(n, func(k, v *yaml.Node) {
				if ft, ok := fs[k.Value]; ok {
					walk(v, ft, joinField(path, k.Value), depth+1)
				}
			}, func(merged *yaml.Node) { walk(merged, t, path, depth+1) })
			return
		case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
			eachPair(n, func(k, v *yaml.Node) { walk(v, t.Elem(), joinField(path, k.Value), depth+1) }, func(merged *yaml.Node) { walk(merged, t, path, depth+1) })
			return
		case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
			for _, it := range n.Content {
				walk(it, t.Elem(), path, depth+1)
			}
			return
		}
		if why := decodeAlone(n, t, b); why != "" {
			out = append(out, badValue{node: n, field: path, why: why})
		}
	}
	walk(n, t, "", 0)
	return out
}

// eachPair calls fn for a mapping's pairs and merged for the mappings its merge keys (<<) bring.
func eachPair(n *yaml.Node, fn func(k, v *yaml.Node), merged func(*yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			if r := yamlnode.Resolve(v); r != nil && r.Kind == yaml.SequenceNode {
				for _, it := range r.Content {
					merged(it)
				}
			} else {
				merged(v)
			}
			continue
		}
		fn(k, v)
	}
}

// decodeAlone decodes n into a new value of type t and says why it cannot ("" when it can).
func decodeAlone(n *yaml.Node, t reflect.Type, b *budget) string {
	v, err := toValue(n, &budget{skip: b.skip, params: b.params}, 0)
	if err != nil {
		return err.Error()
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	err = json.Unmarshal(data, reflect.New(t).Interface())
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &te):
		return fmt.Sprintf("%s where Kubernetes expects %s", article(te.Value), goTypeName(te.Type.String()))
	}
	return err.Error()
}

// jsonFields maps the JSON names of a struct's fields (those of inlined structs included)
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" || strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func article(v string) string {
	switch {
	case v == "":
		return "a value"
	case strings.HasPrefix(v, "object"), strings.HasPrefix(v, "array"):
		return "an " + v
	}
	return "a " + v
}

func fieldName(f string) string {
	if f == "" {
		return "value"
	}
	return f
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "an integer"
	case t == "bool" || strings.HasSuffix(t, "bool"):
		return "true or false"
	case t == "string" || strings.HasSuffix(t, "string"):
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a " + t
}
