package openshift

import (
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// Annotations OpenShift puts on every project's Namespace.
const (
	AnnotationUIDRange           = "openshift.io/sa.scc.uid-range"
	AnnotationSupplementalGroups = "openshift.io/sa.scc.supplemental-groups"
)

// IDRange is a block of ids, written `first/size` (`1000940000/10000`) or `first-last`.
type IDRange struct{ First, Last int64 }

// Contains reports whether id is in the range.
func (r IDRange) Contains(id int64) bool { return id >= r.First && id <= r.Last }

// ParseIDRanges parses an annotation value: blocks `first/size` or `first-last`, separated by
// commas.
func ParseIDRanges(s string) ([]IDRange, error) {
	var out []IDRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if a, b, ok := strings.Cut(part, "/"); ok {
			first, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
			size, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
			if err1 != nil || err2 != nil || first < 0 || size <= 0 {
				return nil, fmt.Errorf("bad range %q (want first/size)", part)
			}
			out = append(out, IDRange{first, first + size - 1})
			continue
		}
		if a, b, ok := strings.Cut(part, "-"); ok {
			first, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
			last, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
			if err1 != nil || err2 != nil || first < 0 || last < first {
				return nil, fmt.Errorf("bad range %q (want first-last)", part)
			}
			out = append(out, IDRange{first, last})
			continue
		}
		return nil, fmt.Errorf("bad range %q (want first/size)", part)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty range")
	}
	return out, nil
}

// FormatRanges writes ranges the way the SCC admission error does: `[1000940000, 1000949999]`.
func FormatRanges(rs []IDRange) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("[%d, %d]", r.First, r.Last))
	}
	return strings.Join(parts, " ")
}

func inRanges(rs []IDRange, id int64) bool {
	for _, r := range rs {
		if r.Contains(id) {
			return true
		}
	}
	return false
}

// Namespace is a Namespace object of the workspace with OpenShift's SCC annotations.
type Namespace struct {
	Name   string
	File   string
	UIDs   []IDRange  // from openshift.io/sa.scc.uid-range (nil when absent or invalid)
	Groups []IDRange  // from openshift.io/sa.scc.supplemental-groups (else the uid range, as OpenShift does)
	Range  text.Range // the uid-range annotation's value
	Raw    string     // the uid-range annotation as written
}

type namespacesKey struct{}

// Namespaces returns the Namespace objects of the workspace that carry a valid
// openshift.io/sa.scc.uid-range annotation. Memoised on the snapshot.
func Namespaces(s *diagnostics.Snapshot) []*Namespace {
	return s.Memo(namespacesKey{}, func() any {
		var out []*Namespace
		for _, p := range s.Walk() {
			f, err := s.File(p)
			if err != nil || f.Kind != diagnostics.KindManifest || !strings.Contains(f.Text, AnnotationUIDRange) {
				continue
			}
			m := kube.ForFile(f)
			for _, o := range m.Objects {
				if o.Kind != "Namespace" && o.Kind != "Project" {
					continue
				}
				_, ann := yamlnode.GetPath(o.Node, "metadata", "annotations")
				_, uv := yamlnode.Get(ann, AnnotationUIDRange)
				if uv == nil || uv.Kind != yaml.ScalarNode {
					continue
				}
				uids, err := ParseIDRanges(uv.Value)
				if err != nil {
					continue
				}
				ns := &Namespace{Name: o.Name, File: p, UIDs: uids, Groups: uids, Range: yamlnode.Range(m.Lines, uv), Raw: uv.Value}
				if _, gv := yamlnode.Get(ann, AnnotationSupplementalGroups); gv != nil && gv.Kind == yaml.ScalarNode {
					if gs, err := ParseIDRanges(gv.Value); err == nil {
						ns.Groups = gs
					}
				}
				out = append(out, ns)
			}
		}
		return out
	}).([]*Namespace)
}

// NamespaceFor returns the annotated Namespace an object is created in: the one named by its
// metadata.namespace, else the only annotated Namespace of the workspace; nil when unknown.
func NamespaceFor(s *diagnostics.Snapshot, o *kube.Object) *Namespace {
	nss := Namespaces(s)
	if o != nil && o.Namespace != "" {
		for _, ns := range nss {
			if ns.Name == o.Namespace {
				return ns
			}
		}
		return nil
	}
	if len(nss) == 1 {
		return nss[0]
	}
	return nil
}
