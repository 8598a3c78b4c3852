package kube

import (
	"encoding/json"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

const multi = `# leading comment
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
  containers:
  - name: app
    image: "registry.example/äpp:1"   # non-ASCII before the tag
    securityContext:
      runAsUser: 0
      capabilities:
        drop: [ALL]
        add: ["NET_BIND_SERVICE"]
    ports:
    - containerPort: 80
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: d}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj, namespace: ns}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
          - name: init
            image: busybox
          containers:
          - name: main
            image: alpine
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d}
  spec:
    template:
      spec:
        containers: [{name: x, image: nginx}]
`

func TestParseMulti(t *testing.T) {
	m := Parse("/m.yaml", multi, nil)
	if len(m.Problems) > 0 {
		t.Fatalf("problems: %v", m.Problems)
	}
	if len(m.Workloads) != 3 {
		t.Fatalf("workloads = %d, want 3", len(m.Workloads))
	}
	p := m.Workloads[0]
	c := p.Containers[0]
	if c.Name != "app" || c.Image != "registry.example/äpp:1" {
		t.Fatalf("container %q image %q", c.Name, c.Image)
	}
	got := yamlnode.Range(m.Lines, c.ImageNode)
	want := text.Range{Start: text.Pos{Line: 11, Col: 11}, End: text.Pos{Line: 11, Col: 11 + len(`"registry.example/äpp:1"`)}}
	if got != want {
		t.Errorf("image range %v, want %v", got, want)
	}
	if u, _ := c.Effective.RunAsUser.Int(); u != 0 || c.Effective.RunAsUser.Level != LevelContainer {
		t.Errorf("effective runAsUser %v from %v", u, c.Effective.RunAsUser.Level)
	}
	if v, _ := c.Effective.RunAsNonRoot.Bool(); !v || c.Effective.RunAsNonRoot.Level != LevelPod {
		t.Errorf("effective runAsNonRoot")
	}
	if len(c.Effective.CapabilitiesDrop) != 1 || c.Effective.CapabilitiesDrop[0].Value != "ALL" {
		t.Errorf("drop %v", c.Effective.CapabilitiesDrop)
	}
	if len(c.Mounts) != 1 || !c.Mounts[0].ReadOnly || c.Mounts[0].MountPath != "/data" {
		t.Errorf("mounts %+v", c.Mounts)
	}
	if len(c.Ports) != 1 || c.Ports[0].Port != 80 {
		t.Errorf("ports %+v", c.Ports)
	}
	if p.Volumes[0].Type != "persistentVolumeClaim" {
		t.Errorf("volume type %q", p.Volumes[0].Type)
	}
	if tc := c.Typed(); tc == nil || *tc.SecurityContext.RunAsUser != 0 || *p.PodSpec.SecurityContext.RunAsUser != 1000 {
		t.Errorf("typed spec wrong")
	}
	cj := m.Workloads[1]
	if cj.Object.Kind != "CronJob" || cj.Object.Namespace != "ns" || len(cj.Containers) != 2 || !cj.Containers[0].Init {
		t.Errorf("cronjob %+v", cj)
	}
	if cj.Path != "spec.jobTemplate.spec.template.spec" {
		t.Errorf("path %q", cj.Path)
	}
	d := m.Workloads[2]
	if d.Object.Parent == nil || d.Object.Parent.Kind != "List" || d.Containers[0].Name != "x" {
		t.Errorf("list item %+v", d.Object)
	}
	if r := yamlnode.Range(m.Lines, d.Containers[0].NameNode); m.Lines.Line(r.Start.Line)[r.Start.Col:r.End.Col] != "x" {
		t.Errorf("flow name range %v", r)
	}
}

func TestParseJSON(t *testing.T) {
	src := `{
  "apiVersion": "v1",
  "kind": "Template",
  "objects": [
    {
      "apiVersion": "apps.openshift.io/v1",
      "kind": "DeploymentConfig",
      "metadata": {"name": "dc"},
      "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "${IMAGE}", "securityContext": {"runAsUser": "${UID}"}}]}}}
    }
  ]
}`
	m := Parse("/t.json", src, nil)
	if !m.JSON || len(m.Problems) != 0 || len(m.Workloads) != 1 {
		t.Fatalf("json=%v problems=%v workloads=%d", m.JSON, m.Problems, len(m.Workloads))
	}
	c := m.Workloads[0].Containers[0]
	r := yamlnode.Range(m.Lines, c.ImageNode)
	if got := m.Lines.Line(r.Start.Line)[r.Start.Col:r.End.Col]; got != `"${IMAGE}"` {
		t.Errorf("image token %q", got)
	}
}

func TestParseBad(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":    "apiVersion: v1\nkind: Pod\nspec: [\n",
		"duplicate": "apiVersion: v1\nkind: Pod\nkind: Pod\n",
		"type":      "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      runAsUser: abc\n",
		"bomb":      bomb(),
		"deep":      "apiVersion: v1\nkind: Pod\nspec: " + strings.Repeat("[", 20000) + "\n",
		"huge":      strings.Repeat("#", MaxManifestSize+1),
	} {
		m := Parse("/x.yaml", src, nil)
		if len(m.Problems) == 0 {
			t.Errorf("%s: no problem reported", name)
		}
	}
}

func bomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nspec:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("  a" + string(rune('0'+i%10)) + string(rune('a'+i)) + ": &a" + string(rune('a'+i)) + " [")
		prev := "a0"
		if i > 1 {
			prev = "a" + string(rune('a'+i-1))
		}
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
	}
	b.WriteString("  containers: [{name: c, image: *al}]\n")
	return b.String()
}

// TestScalarsAsKubernetesReadsThem: plain scalars resolve as sigs.k8s.io/yaml (kubectl) does.
func TestScalarsAsKubernetesReadsThem(t *testing.T) {
	for _, tok := range []string{"yes", "no", "on", "off", "Y", "n", "True", "FALSE", "'yes'", `"on"`, "0777", "1_000", "0x10", "0o17", "-5", "+7", "012", "1e3", "1.5", "~", "null", "abc", "0", "10001", "09", "-0", "0b101", "_1"} {
		src := "a: " + tok + "\n"
		want, err := sigsyaml.YAMLToJSON([]byte(src))
		if err != nil {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		v, _ := toValue(doc.Content[0], &budget{}, 0)
		got, _ := json.Marshal(v)
		if string(got) != string(want) {
			t.Errorf("%s: model reads %s, kubectl reads %s", tok, got, want)
		}
	}
}

// TestTypedLenient: a value its field cannot hold (an envsubst variable in a quantity or a
// port) is reported and left out; the rest of the pod spec is still read.
func TestTypedLenient(t *testing.T) {
	src := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n      - name: app\n        image: app\n        ports:\n        - containerPort: \"${PORT}\"\n        resources:\n          limits:\n            memory: \"${MEMORY_LIMIT}\"\n        securityContext:\n          allowPrivilegeEscalation: false\n"
	m := Parse("/d.yaml", src, nil)
	if len(m.Workloads) != 1 {
		t.Fatalf("%d workloads", len(m.Workloads))
	}
	ps := m.Workloads[0].PodSpec
	if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("pod securityContext lost: %+v", sc)
	}
	if len(ps.Containers) != 1 || ps.Containers[0].SecurityContext == nil || ps.Containers[0].SecurityContext.AllowPrivilegeEscalation == nil {
		t.Fatalf("container securityContext lost: %+v", ps.Containers)
	}
	var msgs []string
	for _, p := range m.Problems {
		msgs = append(msgs, p.Message)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{"containers.ports.containerPort: a string where Kubernetes expects an integer", "containers.resources.limits.memory: quantities must match"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
}
