// Package kube is the Kubernetes workload model and rules NR201–NR210.
//
// A manifest (YAML or JSON, one or more documents) is parsed with yaml.v3 nodes so every
// field keeps its position; objects with a pod template (Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, DeploymentConfig, PodTemplate,
// and any object with spec.template.spec.containers), also inside an OpenShift Template's
// objects or a List's items, become [Workload]s. Each workload carries its pod spec as the
// typed corev1.PodSpec Kubernetes itself would decode, so Pod Security Admission can judge it.
//
// Other rule groups (the workspace graph, Helm, OpenShift) read the model through [For] and
// [Parse].
package kube

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxManifestSize bounds the text the model parses; larger documents get an NR001 finding.
const MaxManifestSize = 8 << 20

// maxDocuments bounds the documents of one file.
const maxDocuments = 10000

// Manifest is the model of one file of Kubernetes objects.
type Manifest struct {
	Path      string
	Lines     *text.Lines
	JSON      bool         // the file is JSON (write JSON when editing it)
	Docs      []*yaml.Node // document nodes, in order
	Objects   []*Object    // every object (with apiVersion and kind), nested ones included
	Workloads []*Workload  // objects with a pod template, in file order
	Problems  []diagnostics.Problem
	Templated bool // the text holds Go template actions ({{ }}): not parsed as a manifest

	// reuse are the workloads an earlier parse of the same chunk text built, whose typed
	// specs the workloads being built take over in order (see chunks.go).
	reuse  []*Workload
	reused int
}

// Object is one Kubernetes object in a manifest.
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	Node       *yaml.Node // the object's mapping
	KindRange  text.Range // the value of kind:
	NameRange  text.Range // the value of metadata.name (zero when absent)
	Doc        int        // 0-based document index in the file
	Parent     *Object    // the Template or List that holds it, if any
}

// Level is where an effective securityContext field comes from.
type Level string

const (
	LevelPod       Level = "pod"
	LevelContainer Level = "container"
)

// Field is one securityContext field as written: its value, where it is, and its level.
type Field struct {
	Value    string     // the scalar's value ("RuntimeDefault", "true", "1000"…)
	Node     *yaml.Node // the value node
	Key      *yaml.Node // the key node
	Range    text.Range // the value's range
	KeyRange text.Range // the key's range
	Level    Level
}

// Bool returns the field's boolean value (ok false when unset or not a boolean).
func (f *Field) Bool() (v, ok bool) {
	if f == nil {
		return false, false
	}
	return boolValue(f.Node)
}

// Int returns the field's integer value (ok false when unset or not an integer).
func (f *Field) Int() (int64, bool) {
	if f == nil {
		return 0, false
	}
	return intValue(f.Node)
}

// SecurityContext holds the fields of a pod or container securityContext (or, for
// [Container.Effective], the container's effective view: container fields override pod fields).
type SecurityContext struct {
	RunAsNonRoot             *Field
	RunAsUser                *Field
	RunAsGroup               *Field
	FSGroup                  *Field // pod level only
	SupplementalGroups       *Field // pod level only (the sequence node)
	AllowPrivilegeEscalation *Field // container level only
	Privileged               *Field // container level only
	ReadOnlyRootFilesystem   *Field // container level only
	SeccompProfileType       *Field // seccompProfile.type
	CapabilitiesAdd          []*Field
	CapabilitiesDrop         []*Field
	Capabilities             *Field // the capabilities key (Node: its mapping)
	CapabilitiesAddKey       *Field // the add key (Node: its sequence)
	CapabilitiesDropKey      *Field // the drop key (Node: its sequence)
	SeccompProfile           *Field // the seccompProfile key (Node: its mapping)

	Node *yaml.Node // the securityContext mapping (nil when absent)
	Key  *yaml.Node // the securityContext key (nil when absent)
}

// named returns the field a rule judges, by the rule's Field name ("runAsNonRoot",
// "seccompProfile": its type; nil when absent or not one scalar).
func (sc SecurityContext) named(field string) *Field {
	switch field {
	case "runAsNonRoot":
		return sc.RunAsNonRoot
	case "runAsUser":
		return sc.RunAsUser
	case "fsGroup":
		return sc.FSGroup
	case "allowPrivilegeEscalation":
		return sc.AllowPrivilegeEscalation
	case "privileged":
		return sc.Privileged
	case "seccompProfile":
		return sc.SeccompProfileType
	}
	return nil
}

// Workload is one pod template (or Pod) and its containers.
type Workload struct {
	Object    *Object
	Path      string     // where the pod spec is in the object, e.g. "spec.template.spec"
	Spec      *yaml.Node // the pod spec mapping
	SpecKey   *yaml.Node // the key of the pod spec mapping ("spec")
	Metadata  *yaml.Node // the pod template's metadata mapping (nil when absent)
	Pod       SecurityContext
	HostUsers *Field
	Volumes   []*Volume
	// Containers: init containers, then containers, then ephemeral containers.
	Containers []*Container
	// ContainersKey is the containers: key (where a pod-wide finding lands when nothing better exists).
	ContainersKey *yaml.Node

	// PodSpec and PodMeta are the typed pod spec as Kubernetes decodes it (best effort: a
	// field of the wrong type is left zero and reported in TypeErrors).
	PodSpec    *corev1.PodSpec
	PodMeta    *metav1.ObjectMeta
	TypeErrors []diagnostics.Problem

	typedOK  bool         // the typed decoding reported no problem (so it can be reused)
	verdicts *verdictCell // shared with the same workload of earlier versions of the file
	found    foundMemo    // what each NR2xx rule found on it (see eachWorkload)
}

// verdictCell holds a workload's PSA verdicts, computed once. The verdicts depend only on the
// typed spec and the containers, so a workload rebuilt from the same text shares the cell.
type verdictCell struct {
	once sync.Once
	v    *Verdicts
}

// Volume is one pod volume.
type Volume struct {
	Name     string
	Type     string // the volume source key: persistentVolumeClaim, hostPath, emptyDir…
	Node     *yaml.Node
	NameNode *yaml.Node
	TypeKey  *yaml.Node
	HostPath string // hostPath.path
	// Claim is true for a volume from a StatefulSet's volumeClaimTemplates (Node is the
	// template), which its controller adds to each pod.
	Claim bool
}

// Mount is one volumeMount of a container.
type Mount struct {
	Name          string
	MountPath     string
	ReadOnly      bool
	Node          *yaml.Node
	NameNode      *yaml.Node
	MountPathNode *yaml.Node
}

// Port is one containerPort.
type Port struct {
	Port     int64
	Name     string
	Protocol string
	Node     *yaml.Node // the containerPort value
}

// Container is one container, init container or ephemeral container of a workload.
type Container struct {
	Workload  *Workload
	Name      string
	NameNode  *yaml.Node
	Node      *yaml.Node // the container's mapping
	Index     int        // index in its list
	Init      bool
	Ephemeral bool
	Image     string
	ImageNode *yaml.Node
	ImageKey  *yaml.Node
	Command   []*yaml.Node // command then args scalars
	Own       SecurityContext
	Effective SecurityContext
	Mounts    []*Mount
	Ports     []*Port
}

// ListName is the container list the container belongs to.
func (c *Container) ListName() string {
	switch {
	case c.Init:
		return "initContainers"
	case c.Ephemeral:
		return "ephemeralContainers"
	}
	return "containers"
}

// Anchor is where a finding about the container lands when no field is to blame: its
// securityContext key if it has one, else its name, else its first key.
func (c *Container) Anchor(lines *text.Lines) text.Range {
	switch {
	case c.Own.Key != nil:
		return yamlnode.Range(lines, c.Own.Key)
	case c.NameNode != nil:
		return yamlnode.Range(lines, c.NameNode)
	case c.Node != nil && len(c.Node.Content) > 0:
		return yamlnode.Range(lines, c.Node.Content[0])
	}
	return yamlnode.Range(lines, c.Node)
}

// Typed returns the container's typed form inside the workload's PodSpec (nil if absent).
func (c *Container) Typed() *corev1.Container {
	ps := c.Workload.PodSpec
	switch {
	case ps == nil:
		return nil
	case c.Init && c.Index < len(ps.InitContainers):
		return &ps.InitContainers[c.Index]
	case c.Ephemeral && c.Index < len(ps.EphemeralContainers):
		ec := &ps.EphemeralContainers[c.Index]
		ctr := corev1.Container(ec.EphemeralContainerCommon)
		return &ctr
	case !c.Init && !c.Ephemeral && c.Index < len(ps.Containers):
		return &ps.Containers[c.Index]
	}
	return nil
}

// Label names the container for messages: `container "app"`, `init container "setup"`; an
// unnamed one (a Knative Service's, a template's) by its position in its list and its image:
// `container 1 (ghcr.io/x/y)`.
func (c *Container) Label() string {
	kind := "container"
	switch {
	case c.Init:
		kind = "init container"
	case c.Ephemeral:
		kind = "ephemeral container"
	}
	switch {
	case c.Name != "":
		return fmt.Sprintf("%s %q", kind, c.Name)
	case c.Image != "":
		return fmt.Sprintf("%s %d (%s)", kind, c.Index+1, c.Image)
	}
	return fmt.Sprintf("%s %d", kind, c.Index+1)
}

// RunsNonRoot reports whether the container is known to run as a non-root uid: an effective
// runAsUser > 0, or runAsNonRoot: true (the kubelet refuses to start it as root).
func (c *Container) RunsNonRoot() bool {
	if u, ok := c.Effective.RunAsUser.Int(); ok {
		return u != 0
	}
	v, ok := c.Effective.RunAsNonRoot.Bool()
	return ok && v
}

// RunsAsRoot reports whether the container will (or may, with nothing preventing it) run as
// root: runAsUser 0, or no runAsUser and no runAsNonRoot: true.
func (c *Container) RunsAsRoot() bool {
	if u, ok := c.Effective.RunAsUser.Int(); ok {
		return u == 0
	}
	v, ok := c.Effective.RunAsNonRoot.Bool()
	return !(ok && v)
}

type manifestKey struct{}

// For returns the model of path in s, memoised on the file. The error is only for a file
// that cannot be read; parse problems are in Manifest.Problems.
func For(s *diagnostics.Snapshot, path string) (*Manifest, error) {
	f, err := s.File(path)
	if err != nil {
		return nil, err
	}
	return ForFile(f), nil
}

// ForFile returns the model of f, memoised on it. The model of a document whose previous
// version was parsed reuses that parse's chunks (chunks.go).
func ForFile(f *diagnostics.File) *Manifest {
	return f.Memo(manifestKey{}, func() any {
		var prev chunkTable
		if p := f.Previous(); p != nil {
			if v, ok := p.Peek(manifestKey{}); ok {
				prev = v.(*parsed).chunks
			}
		}
		m, t := parse(f.Path, f.Text, f.Lines(), parseCached, prev)
		f.ReleasePrevious()
		return &parsed{m, t}
	}).(*parsed).m
}

// parsed is what ForFile memoises: the model and the chunks its parse kept.
type parsed struct {
	m      *Manifest
	chunks chunkTable
}

// Parse builds the model of src (the text of path). lines may be nil.
func Parse(path, src string, lines *text.Lines) *Manifest {
	m, _ := parse(path, src, lines, parseChunks, nil)
	return m
}

// parseMode says how parse decodes: by chunks reusing prev's (what ForFile does), by chunks
// from scratch, or as one stream (the reference; tests compare them).
type parseMode int

const (
	parseCached parseMode = iota
	parseChunks
	parseWhole
)

func parse(path, src string, lines *text.Lines, mode parseMode, prev chunkTable) (*Manifest, chunkTable) {
	if lines == nil {
		lines = text.NewLines(src)
	}
	m := &Manifest{Path: path, Lines: lines}
	trimmed := strings.TrimLeft(src, " \t\r\n\ufeff")
	m.JSON = strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")
	if len(src) > MaxManifestSize {
		m.problem(text.Range{}, fmt.Sprintf("the file is %d bytes, more than the %d-byte limit for manifests: not analysed", len(src), MaxManifestSize))
		return m, nil
	}
	if off, ok := validUTF8(src); !ok {
		p := lines.PosAt(off)
		m.problem(text.Range{Start: p, End: p}, "invalid UTF-8: Kubernetes manifests must be UTF-8 text")
		return m, nil
	}
	m.Templated = strings.Contains(src, "{{")
	if mode == parseWhole {
		m.parseStream(src)
		return m, nil
	}
	if mode != parseCached {
		prev = nil
	}
	ok, table := m.parseChunked(src, prev)
	if !ok {
		m.parseStream(src)
		return m, nil
	}
	if mode != parseCached {
		table = nil
	}
	return m, table
}

// parseStream decodes the whole text as one YAML stream (the reference the chunked parse
// agrees with; used when it declines) and builds the model of its documents.
func (m *Manifest) parseStream(src string) {
	dec := yaml.NewDecoder(strings.NewReader(src))
	for i := 0; ; i++ {
		if i == maxDocuments {
			m.problem(text.Range{}, fmt.Sprintf("more than %d documents: only the first %d are analysed", maxDocuments, maxDocuments))
			break
		}
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !m.Templated {
				m.yamlError(err)
			}
			break
		}
		m.Docs = append(m.Docs, &doc)
	}
	if m.Templated && len(m.Docs) == 0 {
		return
	}
	for i, doc := range m.Docs {
		m.document(doc, i)
	}
}

// document builds the model of document doc (index i in the file): its duplicate keys,
// objects and workloads.
func (m *Manifest) document(doc *yaml.Node, i int) {
	if len(doc.Content) == 0 {
		return
	}
	root := yamlnode.Resolve(doc.Content[0])
	if m.Templated && hasComplexKey(root, 0) {
		// "{{ .Values.x }}" parses as a mapping key: a Go template, not a manifest.
		return
	}
	m.duplicateKeys(root, 0)
	m.object(root, i, nil, 0)
}

func (m *Manifest) problem(r text.Range, msg string) {
	m.Problems = append(m.Problems, diagnostics.Problem{Range: r, Message: msg})
}

// yamlError reports a parse error at its line.
func (m *Manifest) yamlError(err error) {
	msg := err.Error()
	line := diagnostics.ErrorLine(msg)
	if line >= m.Lines.Count() {
		line = m.Lines.Count() - 1
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	m.problem(m.Lines.LineRange(line), "invalid YAML: "+msg+" (kubectl rejects the file)")
}

// hasComplexKey reports whether a mapping under n has a non-scalar key (what an unquoted
// "{{ .Values.x }}" parses into).
func hasComplexKey(n *yaml.Node, depth int) bool {
	if n == nil || depth > maxDepth || n.Kind == yaml.AliasNode {
		return false
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if n.Content[i].Kind != yaml.ScalarNode {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if hasComplexKey(c, depth+1) {
			return true
		}
	}
	return false
}

// duplicateKeys reports keys that repeat in a mapping: kubectl refuses such a file
// ("mapping key already defined").
func (m *Manifest) duplicateKeys(n *yaml.Node, depth int) {
	if n == nil || depth > maxDepth || n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			if first := seen[k.Value]; first != nil {
				m.problem(yamlnode.Range(m.Lines, k), fmt.Sprintf("duplicate key %q (first at line %d): kubectl rejects the file (mapping key %q already defined)", k.Value, first.Line, k.Value))
			} else {
				seen[k.Value] = k
			}
		}
	}
	for _, c := range n.Content {
		m.duplicateKeys(c, depth+1)
	}
}

// object reads an object and, for Templates and Lists, the objects inside.
func (m *Manifest) object(n *yaml.Node, doc int, parent *Object, depth int) {
	if !yamlnode.IsMapping(n) || depth > 4 {
		return
	}
	api, kind := yamlnode.Str(valueOf(n, "apiVersion")), yamlnode.Str(valueOf(n, "kind"))
	if api == "" || kind == "" {
		return
	}
	o := &Object{APIVersion: api, Kind: kind, Node: n, Doc: doc, Parent: parent}
	_, kv := yamlnode.Get(n, "kind")
	o.KindRange = yamlnode.Range(m.Lines, kv)
	if _, md := yamlnode.Get(n, "metadata"); md != nil {
		_, nv := yamlnode.Get(md, "name")
		o.Name = yamlnode.Str(nv)
		if nv != nil {
			o.NameRange = yamlnode.Range(m.Lines, nv)
		}
		o.Namespace = yamlnode.Str(valueOf(md, "namespace"))
	}
	m.Objects = append(m.Objects, o)
	if key := nestedKey(api, kind); key != "" {
		for _, it := range yamlnode.Items(valueOf(n, key)) {
			m.object(it, doc, o, depth+1)
		}
		return
	}
	m.workloads(o)
}

// nestedKey is the key under which an object of this kind holds other objects: a Template's
// objects, a List's items; "" for any other kind.
func nestedKey(api, kind string) string {
	switch {
	case kind == "Template" && strings.HasPrefix(api, "template.openshift.io") || kind == "Template" && api == "v1":
		return "objects"
	case kind == "List" || strings.HasSuffix(kind, "List"):
		return "items"
	}
	return ""
}

// podSpecPath is where the object n of kind keeps its pod spec (nil when it has none): by
// kind, else the usual spec.template.spec of any other object with containers there (Argo
// Rollouts, operators' CRDs…).
func podSpecPath(n *yaml.Node, kind string) []string {
	if path, known := podSpecPaths[kind]; known {
		return path
	}
	path := []string{"spec", "template", "spec"}
	if _, v := yamlnode.GetPath(n, path...); !yamlnode.IsMapping(v) || !yamlnode.IsSeq(valueOf(v, "containers")) {
		return nil
	}
	return path
}

// PodSpecAt is a pod spec found in a document, with its key path from the document's root
// ("[2]" for the third item of a sequence).
type PodSpecAt struct {
	Path []string
	Node *yaml.Node
}

// PodSpecs returns the pod specs of the object n (a document's root): its own, or those of
// the objects a Template or a List holds — what Parse makes workloads of.
func PodSpecs(n *yaml.Node) []PodSpecAt {
	var out []PodSpecAt
	var visit func(n *yaml.Node, prefix []string, depth int)
	visit = func(n *yaml.Node, prefix []string, depth int) {
		if !yamlnode.IsMapping(n) || depth > 4 {
			return
		}
		api, kind := yamlnode.Str(valueOf(n, "apiVersion")), yamlnode.Str(valueOf(n, "kind"))
		if key := nestedKey(api, kind); key != "" {
			for i, it := range yamlnode.Items(valueOf(n, key)) {
				visit(it, append(slices.Clone(prefix), key, "["+strconv.Itoa(i)+"]"), depth+1)
			}
			return
		}
		path := podSpecPath(n, kind)
		if path == nil {
			return
		}
		if _, spec := yamlnode.GetPath(n, path...); yamlnode.IsMapping(spec) {
			out = append(out, PodSpecAt{Path: append(slices.Clone(prefix), path...), Node: spec})
		}
	}
	visit(yamlnode.Resolve(n), nil, 0)
	return out
}

// claimVolumes adds the volumes a StatefulSet's controller gives each pod: a
// persistentVolumeClaim volume per volumeClaimTemplate, in place of a pod volume of the same
// name.
func (w *Workload) claimVolumes(set *yaml.Node) {
	for _, cn := range yamlnode.Items(valueOf(valueOf(set, "spec"), "volumeClaimTemplates")) {
		nameNode := valueOf(valueOf(cn, "metadata"), "name")
		name := yamlnode.Str(nameNode)
		if name == "" {
			continue
		}
		vol := &Volume{Name: name, Type: "persistentVolumeClaim", Node: cn, NameNode: nameNode, Claim: true}
		if i := slices.IndexFunc(w.Volumes, func(v *Volume) bool { return v.Name == name }); i >= 0 {
			w.Volumes[i] = vol
		} else {
			w.Volumes = append(w.Volumes, vol)
		}
	}
}

func valueOf(n *yaml.Node, key string) *yaml.Node { _, v := yamlnode.Get(n, key); return v }

// podSpecPaths: where each kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"PodTemplate":           {"template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"DeploymentConfig":      {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

func (m *Manifest) workloads(o *Object) {
	path := podSpecPath(o.Node, o.Kind)
	if path == nil {
		return
	}
	key, spec := yamlnode.GetPath(o.Node, path...)
	if !yamlnode.IsMapping(spec) {
		return
	}
	w := &Workload{Object: o, Path: strings.Join(path, "."), Spec: spec, SpecKey: key, verdicts: &verdictCell{}}
	if len(path) > 1 {
		_, tmpl := yamlnode.GetPath(o.Node, path[:len(path)-1]...)
		w.Metadata = valueOf(tmpl, "metadata")
	} else {
		w.Metadata = valueOf(o.Node, "metadata")
	}
	w.Pod = m.securityContext(spec, LevelPod)
	if k, v := yamlnode.Get(spec, "hostUsers"); k != nil && v != nil {
		w.HostUsers = m.field(k, v, LevelPod)
	}
	for _, vn := range yamlnode.Items(valueOf(spec, "volumes")) {
		if !yamlnode.IsMapping(vn) {
			continue
		}
		vol := &Volume{Node: vn}
		vol.NameNode = valueOf(vn, "name")
		vol.Name = yamlnode.Str(vol.NameNode)
		if hk, hv := yamlnode.Get(vn, "hostPath"); hk != nil {
			vol.Type, vol.TypeKey, vol.HostPath = "hostPath", hk, yamlnode.Str(valueOf(hv, "path"))
		}
		for i := 0; vol.Type == "" && i+1 < len(vn.Content); i += 2 {
			if k := vn.Content[i].Value; k != "name" {
				vol.Type, vol.TypeKey = k, vn.Content[i]
				if k == "hostPath" {
					vol.HostPath = yamlnode.Str(valueOf(yamlnode.Resolve(vn.Content[i+1]), "path"))
				}
				break
			}
		}
		w.Volumes = append(w.Volumes, vol)
	}
	if o.Kind == "StatefulSet" {
		w.claimVolumes(o.Node)
	}
	w.ContainersKey, _ = yamlnode.Get(spec, "containers")
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for i, cn := range yamlnode.Items(valueOf(spec, list)) {
			if !yamlnode.IsMapping(cn) {
				continue
			}
			c := &Container{Workload: w, Node: cn, Index: i, Init: list == "initContainers", Ephemeral: list == "ephemeralContainers"}
			c.NameNode = valueOf(cn, "name")
			c.Name = yamlnode.Str(c.NameNode)
			c.ImageKey, c.ImageNode = yamlnode.Get(cn, "image")
			c.Image = yamlnode.Str(c.ImageNode)
			for _, key := range []string{"command", "args"} {
				for _, a := range yamlnode.Items(valueOf(cn, key)) {
					if a.Kind == yaml.ScalarNode {
						c.Command = append(c.Command, a)
					}
				}
			}
			c.Own = m.securityContext(cn, LevelContainer)
			c.Effective = effective(w.Pod, c.Own)
			for _, mn := range yamlnode.Items(valueOf(cn, "volumeMounts")) {
				if !yamlnode.IsMapping(mn) {
					continue
				}
				mt := &Mount{Node: mn, NameNode: valueOf(mn, "name"), MountPathNode: valueOf(mn, "mountPath")}
				mt.Name, mt.MountPath = yamlnode.Str(mt.NameNode), yamlnode.Str(mt.MountPathNode)
				mt.ReadOnly, _ = boolValue(valueOf(mn, "readOnly"))
				c.Mounts = append(c.Mounts, mt)
			}
			for _, pn := range yamlnode.Items(valueOf(cn, "ports")) {
				pv := valueOf(pn, "containerPort")
				if pv == nil {
					continue
				}
				p := &Port{Node: pv, Name: yamlnode.Str(valueOf(pn, "name")), Protocol: yamlnode.Str(valueOf(pn, "protocol"))}
				p.Port, _ = intValue(pv)
				c.Ports = append(c.Ports, p)
			}
			w.Containers = append(w.Containers, c)
		}
	}
	m.typedOrReused(w)
	m.Workloads = append(m.Workloads, w)
}

func (m *Manifest) field(k, v *yaml.Node, level Level) *Field {
	return &Field{Value: yamlnode.Str(v), Node: v, Key: k, Range: yamlnode.Range(m.Lines, v), KeyRange: yamlnode.Range(m.Lines, k), Level: level}
}

// securityContext reads the securityContext of a pod spec or container mapping.
func (m *Manifest) securityContext(owner *yaml.Node, level Level) SecurityContext {
	var sc SecurityContext
	k, n := yamlnode.Get(owner, "securityContext")
	if k == nil {
		return sc
	}
	sc.Key, sc.Node = k, n
	if !yamlnode.IsMapping(n) {
		return sc
	}
	set := func(dst **Field, key string) {
		if kk, v := yamlnode.Get(n, key); kk != nil && v != nil && v.Kind == yaml.ScalarNode && !yamlnode.IsNull(v) {
			*dst = m.field(kk, v, level)
		}
	}
	set(&sc.RunAsNonRoot, "runAsNonRoot")
	set(&sc.RunAsUser, "runAsUser")
	set(&sc.RunAsGroup, "runAsGroup")
	if level == LevelPod {
		set(&sc.FSGroup, "fsGroup")
		if kk, v := yamlnode.Get(n, "supplementalGroups"); kk != nil && v != nil {
			sc.SupplementalGroups = m.field(kk, v, level)
		}
	} else {
		set(&sc.AllowPrivilegeEscalation, "allowPrivilegeEscalation")
		set(&sc.Privileged, "privileged")
		set(&sc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
		if kk, caps := yamlnode.Get(n, "capabilities"); kk != nil {
			sc.Capabilities = m.field(kk, caps, level)
			if ak, add := yamlnode.Get(caps, "add"); ak != nil {
				sc.CapabilitiesAddKey = m.field(ak, add, level)
				for _, it := range yamlnode.Items(add) {
					sc.CapabilitiesAdd = append(sc.CapabilitiesAdd, m.field(ak, it, level))
				}
			}
			if dk, drop := yamlnode.Get(caps, "drop"); dk != nil {
				sc.CapabilitiesDropKey = m.field(dk, drop, level)
				for _, it := range yamlnode.Items(drop) {
					sc.CapabilitiesDrop = append(sc.CapabilitiesDrop, m.field(dk, it, level))
				}
			}
		}
	}
	if kk, sp := yamlnode.Get(n, "seccompProfile"); kk != nil {
		sc.SeccompProfile = m.field(kk, sp, level)
		if tk, tv := yamlnode.Get(sp, "type"); tk != nil && tv != nil {
			sc.SeccompProfileType = m.field(tk, tv, level)
		}
	}
	return sc
}

// effective is the container's view: container fields override pod fields.
func effective(pod, ctr SecurityContext) SecurityContext {
	e := ctr
	pick := func(c, p *Field) *Field {
		if c != nil {
			return c
		}
		return p
	}
	e.RunAsNonRoot = pick(ctr.RunAsNonRoot, pod.RunAsNonRoot)
	e.RunAsUser = pick(ctr.RunAsUser, pod.RunAsUser)
	e.RunAsGroup = pick(ctr.RunAsGroup, pod.RunAsGroup)
	e.FSGroup = pod.FSGroup
	e.SupplementalGroups = pod.SupplementalGroups
	if ctr.SeccompProfile == nil {
		e.SeccompProfile, e.SeccompProfileType = pod.SeccompProfile, pod.SeccompProfileType
	}
	return e
}

// typedOrReused gives w the typed spec of the workload that the same text produced before
// (m.reuse, in order), or decodes it.
func (m *Manifest) typedOrReused(w *Workload) {
	if m.reused < len(m.reuse) {
		old := m.reuse[m.reused]
		m.reused++
		if old.typedOK && old.Path == w.Path && len(old.Containers) == len(w.Containers) {
			w.PodSpec, w.PodMeta, w.typedOK, w.verdicts = old.PodSpec, old.PodMeta, true, old.verdicts
			return
		}
	}
	n := len(m.Problems)
	m.typed(w)
	w.typedOK = len(m.Problems) == n
}

// podFields are the securityContext fields a pod-level securityContext can set (for its
// containers, or for the pod alone).
var podFields = map[string]bool{
	"runAsNonRoot": true, "runAsUser": true, "runAsGroup": true, "seccompProfile": true,
	"seLinuxOptions": true, "windowsOptions": true, "appArmorProfile": true,
	"fsGroup": true, "fsGroupChangePolicy": true, "supplementalGroups": true, "sysctls": true,
}

// IsPodField reports whether a pod-level securityContext can set the field.
func IsPodField(name string) bool { return podFields[name] }
