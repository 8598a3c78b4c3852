package helm

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Doc is one YAML document of a rendered template.
type Doc struct {
	Template string // chart-relative template path
	Index    int    // position among the template's documents
	Root     *yaml.Node
	Kind     string
	Name     string
	StartLn  int // 0-based line of the document's first node in the rendered text
}

// PodSpec is a pod template inside a rendered document.
type PodSpec struct {
	Doc  *Doc
	Path []string // keys from the document root (spec.template.spec)
	Node *yaml.Node
}

// Container is one container of a pod spec.
type Container struct {
	Pod   *PodSpec
	List  string // containers, initContainers or ephemeralContainers
	Index int
	Name  string
	Node  *yaml.Node
}

// SecurityContext returns the container's securityContext mapping (nil when absent).
func (c *Container) SecurityContext() *yaml.Node { return mapGet(c.Node, "securityContext") }

// SecurityContext returns the pod's securityContext mapping (nil when absent).
func (p *PodSpec) SecurityContext() *yaml.Node { return mapGet(p.Node, "securityContext") }

const maxDocs = 10000

// parseDocs splits a rendered template into YAML documents. A document that does not parse
// ends the list (Helm would refuse it too; the rendered-file diagnostics say why).
func parseDocs(tmpl, src string) []*Doc {
	dec := yaml.NewDecoder(strings.NewReader(src))
	var out []*Doc
	for i := 0; i < maxDocs; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := n.Content[0]
		d := &Doc{Template: tmpl, Index: len(out), Root: root, StartLn: root.Line - 1}
		if k := mapGet(root, "kind"); k != nil {
			d.Kind = k.Value
		}
		if md := mapGet(root, "metadata"); md != nil {
			if nm := mapGet(md, "name"); nm != nil {
				d.Name = nm.Value
			}
		}
		out = append(out, d)
	}
	return out
}

// PodSpecs returns the pod templates of a document, where the Kubernetes model finds them
// (Pod, Deployment, CronJob, OpenShift Template objects…).
func (d *Doc) PodSpecs() []*PodSpec {
	var out []*PodSpec
	for _, p := range kube.PodSpecs(d.Root) {
		out = append(out, &PodSpec{Doc: d, Path: p.Path, Node: p.Node})
	}
	return out
}

// Containers returns the pod's containers, init containers and ephemeral containers.
func (p *PodSpec) Containers() []*Container {
	var out []*Container
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		seq := mapGet(p.Node, list)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for i, n := range seq.Content {
			c := &Container{Pod: p, List: list, Index: i, Node: n}
			if nm := mapGet(n, "name"); nm != nil {
				c.Name = nm.Value
			}
			out = append(out, c)
		}
	}
	return out
}

// Where describes a container for messages: Deployment/name container "app".
func (c *Container) Where() string {
	s := c.Pod.Doc.Kind + "/" + c.Pod.Doc.Name
	kind := "container"
	switch c.List {
	case "initContainers":
		kind = "init container"
	case "ephemeralContainers":
		kind = "ephemeral container"
	}
	return s + " " + kind + " " + strconv.Quote(c.Name)
}

// Where describes a pod for messages.
func (p *PodSpec) Where() string { return p.Doc.Kind + "/" + p.Doc.Name }

// contains reports whether node n (with its subtree) spans line (0-based).
func spans(n *yaml.Node, line int) bool {
	first, last := n.Line-1, lastLine(n)
	return line >= first && line <= last
}

func lastLine(n *yaml.Node) int {
	l := n.Line - 1
	for _, c := range n.Content {
		if x := lastLine(c); x > l {
			l = x
		}
	}
	return l
}

// location is where a position of a rendered document lies: its pod, container, and the
// securityContext field (if any).
type location struct {
	Doc       *Doc
	Pod       *PodSpec
	Container *Container
	InSC      bool   // inside a securityContext mapping
	Field     string // the securityContext field under the position ("" when none)
	Keys      []string
}

// locate finds what a position of the rendered text points at.
func locate(docs []*Doc, pos text.Pos) location {
	var loc location
	for _, d := range docs {
		if spans(d.Root, pos.Line) || (d.StartLn <= pos.Line && loc.Doc == nil) {
			loc.Doc = d
		}
	}
	if loc.Doc == nil {
		if len(docs) == 0 {
			return loc
		}
		loc.Doc = docs[0]
	}
	loc.Keys = keysAt(loc.Doc.Root, pos)
	pods := loc.Doc.PodSpecs()
	for _, p := range pods {
		if spans(p.Node, pos.Line) || (p.Node.Line-1 == pos.Line+1) {
			loc.Pod = p
		}
	}
	if loc.Pod == nil && len(pods) > 0 {
		loc.Pod = pods[0]
	}
	if loc.Pod == nil {
		return loc
	}
	for _, c := range loc.Pod.Containers() {
		if spans(c.Node, pos.Line) {
			loc.Container = c
		}
	}
	for i, k := range loc.Keys {
		if k == "securityContext" {
			loc.InSC = true
			if i+1 < len(loc.Keys) {
				loc.Field = loc.Keys[i+1]
			}
		}
	}
	return loc
}

// keysAt returns the mapping keys on the way from n to the deepest node on pos's line.
func keysAt(n *yaml.Node, pos text.Pos) []string {
	var out []string
	for depth := 0; depth < 64; depth++ {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Line-1 == pos.Line || spans(v, pos.Line) && v.Kind != yaml.ScalarNode {
					out = append(out, k.Value)
					if k.Line-1 == pos.Line && (v.Kind == yaml.ScalarNode || v.Line-1 > pos.Line || v.Kind == yaml.MappingNode && len(v.Content) == 0) {
						return out
					}
					next = v
					break
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if spans(c, pos.Line) {
					out = append(out, "["+strconv.Itoa(i)+"]")
					next = c
					break
				}
			}
		}
		if next == nil {
			return out
		}
		n = next
	}
	return out
}

// flowYAML renders a node as one line of flow YAML for messages and hovers.
func flowYAML(n *yaml.Node) string {
	if n == nil {
		return "(not set)"
	}
	c := *n
	setFlow(&c)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		return "?"
	}
	return strings.TrimSpace(b.String())
}

func setFlow(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
		content := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			cc := *c
			setFlow(&cc)
			content[i] = &cc
		}
		n.Content = content
	}
}

// withoutMarker returns a copy of a securityContext mapping without the marker key.
func withoutMarker(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	c := *n
	c.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != MarkerKey {
			c.Content = append(c.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &c
}
