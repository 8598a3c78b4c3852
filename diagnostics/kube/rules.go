package kube

import (
	"fmt"
	"strings"
	"sync"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"k8s.io/pod-security-admission/policy"
)

// data is the payload of an NR2xx finding (Finding.Data), for the rules' fixes.
type data struct {
	Manifest  *Manifest
	Workload  *Workload
	Container *Container // nil for a pod-level finding
	Check     string     // the Pod Security Admission check that failed ("" for NR207–NR210)
	Field     *Field     // the offending field, when there is one
	Mount     *Mount     // NR207
	Volume    *Volume    // NR207, NR209
	Port      *Port      // NR210
}

var manifestKinds = []diagnostics.FileKind{diagnostics.KindManifest}

// eachWorkload calls fn for every workload of the pass's file and reports what fn adds,
// with the model in their Data. An NR2xx finding depends on its workload alone, so what fn
// adds is kept on the workload: when the next version of the file reuses the workload (its
// text unchanged and in the same place, see chunks.go), the findings are reported again
// without running fn. (What is kept does not point at the model, which holds the whole text
// of its version.)
func eachWorkload(pass *diagnostics.Pass, fn func(m *Manifest, w *Workload, out *findings)) {
	eachWorkloadThen(pass, fn, nil)
}

// eachWorkloadThen is eachWorkload, with then (when not nil) applied to each finding before it
// is reported: for what does not depend on the workload alone (the image a container runs,
// as the workspace links it), which is therefore not kept with it.
func eachWorkloadThen(pass *diagnostics.Pass, fn func(m *Manifest, w *Workload, out *findings), then func(diagnostics.Finding) diagnostics.Finding) {
	m := ForFile(pass.File)
	for _, w := range m.Workloads {
		for _, f := range w.found.get(pass.Rule.ID, func() findings {
			var out findings
			fn(m, w, &out)
			notePlaceholders(out, w, pass.Rule.Field)
			return out
		}) {
			if d, ok := f.Data.(*data); ok {
				dd := *d
				dd.Manifest = m
				f.Data = &dd
			}
			if then != nil {
				f = then(f)
			}
			pass.Report(f)
		}
	}
}

// notePlaceholders says, in the message of each finding whose field (a rule's Field) is a
// template parameter or an envsubst variable, that its value is not known here.
func notePlaceholders(out findings, w *Workload, field string) {
	for i := range out {
		d, _ := out[i].Data.(*data)
		if d == nil || field == "" {
			continue
		}
		sc := w.Pod
		if d.Container != nil {
			sc = d.Container.Effective
		}
		f := sc.named(field)
		if f == nil || !placeholder.MatchString(f.Value) {
			continue
		}
		note := "no default"
		if p := w.Object.Parent; p != nil && p.Kind == "Template" {
			if def, ok := templateParams(p.Node)[placeholder.FindStringSubmatch(f.Value)[1]]; ok {
				note = fmt.Sprintf("default %q", def)
			}
		}
		out[i].Message += fmt.Sprintf(" (%s is the parameter %s, %s: its value is known only when the manifest is processed)", field, f.Value, note)
	}
}

// findings are what a rule found on one workload.
type findings []diagnostics.Finding

func (out *findings) add(rng text.Range, d *data, format string, args ...any) {
	*out = append(*out, diagnostics.Finding{Range: rng, Message: fmt.Sprintf(format, args...), Data: d})
}

// foundMemo keeps a workload's findings per rule.
type foundMemo struct {
	mu     sync.Mutex
	byRule map[string]findings
}

func (fm *foundMemo) get(rule string, fn func() findings) findings {
	fm.mu.Lock()
	fs, ok := fm.byRule[rule]
	fm.mu.Unlock()
	if ok {
		return fs
	}
	fs = fn()
	fm.mu.Lock()
	if fm.byRule == nil {
		fm.byRule = map[string]findings{}
	}
	fm.byRule[rule] = fs
	fm.mu.Unlock()
	return fs
}

// fieldRange is the range of f's value, or of the fallback.
func fieldRange(m *Manifest, f *Field, fallback text.Range) text.Range {
	if f != nil {
		return f.Range
	}
	return fallback
}

// podAnchor is where a pod-level finding lands: the pod securityContext key, else the spec key.
func podAnchor(m *Manifest, w *Workload) text.Range {
	if w.Pod.Key != nil {
		return yamlnode.Range(m.Lines, w.Pod.Key)
	}
	if w.SpecKey != nil {
		return yamlnode.Range(m.Lines, w.SpecKey)
	}
	return w.Object.KindRange
}

func objLabel(w *Workload) string {
	if w.Object.Name != "" {
		return fmt.Sprintf("%s %q", w.Object.Kind, w.Object.Name)
	}
	return w.Object.Kind
}

const psaSource = "Pod Security Standards, restricted profile (k8s.io/pod-security-admission): "

// OpenShiftKinds are the kinds whose presence in a workspace turns the openshift profile on.
var OpenShiftKinds = map[string]bool{"Route": true, "DeploymentConfig": true, "SecurityContextConstraints": true, "ImageStream": true, "BuildConfig": true}

// HasOpenShiftObjects reports whether a manifest holds an OpenShift object (Route,
// DeploymentConfig, SecurityContextConstraints, ImageStream, BuildConfig), Template objects
// included. The snapshot keeps its answer per file ([diagnostics.RegisterOpenShiftDetector]).
func HasOpenShiftObjects(f *diagnostics.File) bool {
	if !strings.Contains(f.Text, "kind") {
		return false
	}
	for _, o := range ForFile(f).Objects {
		if OpenShiftKinds[o.Kind] {
			return true
		}
	}
	return false
}

// eachFailingContainer calls fn for every container of the pass's workloads whose own
// pod-security-admission verdict on check fails.
func eachFailingContainer(pass *diagnostics.Pass, check string, fn func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings)) {
	eachWorkload(pass, failing(check, fn))
}

// failing calls fn for every container of a workload that fails check.
func failing(check string, fn func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings)) func(*Manifest, *Workload, *findings) {
	return func(m *Manifest, w *Workload, out *findings) {
		v := w.Verdicts()
		for i, c := range w.Containers {
			if r := v.Containers[i][check]; !r.Allowed {
				fn(m, w, c, r, out)
			}
		}
	}
}

// CheckOf returns the workload an NR2xx finding is about and the Pod Security Admission check
// that failed ("" for NR207–NR210); false for any other finding.
func CheckOf(f diagnostics.Finding) (*Workload, string, bool) {
	d, ok := f.Data.(*data)
	if !ok || d == nil {
		return nil, "", false
	}
	return d.Workload, d.Check, true
}
