package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	yaml "go.yaml.in/yaml/v3"
)

type labelWorkload struct {
	Kind            string   `yaml:"kind"`
	Name            string   `yaml:"name"`
	HostPathVolumes any      `yaml:"hostPath_volumes"`
	VolumeTypes     []string `yaml:"volume_types"`
	Containers      []map[string]any
}

// TestCorpusLabels compares the model's effective securityContext of every container in the
// corpus manifests with the hand-written facts in labels.yaml.
func TestCorpusLabels(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	data, err := os.ReadFile(filepath.Join(corpus, "labels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Files map[string]struct {
			Workloads []labelWorkload `yaml:"workloads"`
		} `yaml:"files"`
	}
	if err := yaml.Unmarshal(data, &labels); err != nil {
		t.Fatal(err)
	}
	facts, agree := 0, 0
	var keys []string
	for k := range labels.Files {
		if strings.HasPrefix(k, "k8s/") || strings.HasPrefix(k, "openshift/") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		t.Fatal("no k8s/openshift entries in labels.yaml")
	}
	for _, k := range keys {
		src, err := os.ReadFile(filepath.Join(corpus, k))
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		m := kube.Parse(k, string(src), nil)
		lw := labels.Files[k].Workloads
		if len(lw) != len(m.Workloads) {
			t.Errorf("%s: %d workloads, labels say %d", k, len(m.Workloads), len(lw))
			continue
		}
		for i, want := range lw {
			w := m.Workloads[i]
			check := func(what string, got, exp string) {
				facts++
				if got == exp {
					agree++
				} else {
					t.Errorf("%s %s/%s: %s = %s, labels say %s", k, want.Kind, want.Name, what, got, exp)
				}
			}
			check("kind", w.Object.Kind, want.Kind)
			check("name", w.Object.Name, want.Name)
			var types []string
			seen := map[string]bool{}
			var hostPaths []string
			for _, v := range w.Volumes {
				if v.Claim {
					continue // the labels list the pod spec's volumes
				}
				if !seen[v.Type] {
					seen[v.Type] = true
					types = append(types, v.Type)
				}
				if v.Type == "hostPath" {
					hostPaths = append(hostPaths, v.Name+": "+v.HostPath)
				}
			}
			sort.Strings(types)
			wt := append([]string(nil), want.VolumeTypes...)
			sort.Strings(wt)
			check("volume_types", fmt.Sprint(types), fmt.Sprint(wt))
			check("hostPath_volumes", listOrNone(hostPaths), labelList(want.HostPathVolumes))
			if len(want.Containers) != len(w.Containers) {
				t.Errorf("%s: %d containers, labels say %d", k, len(w.Containers), len(want.Containers))
				continue
			}
			for j, lc := range want.Containers {
				c := w.Containers[j]
				e := c.Effective
				pre := "container " + c.Name + " "
				check(pre+"name", c.Name, fmt.Sprint(lc["name"]))
				check(pre+"type", map[bool]string{true: "init", false: "main"}[c.Init], fmt.Sprint(lc["type"]))
				check(pre+"image", c.Image, fmt.Sprint(lc["image"]))
				for _, f := range []struct {
					name string
					f    *kube.Field
				}{{"runAsNonRoot", e.RunAsNonRoot}, {"runAsUser", e.RunAsUser}, {"runAsGroup", e.RunAsGroup}, {"fsGroup", e.FSGroup},
					{"allowPrivilegeEscalation", e.AllowPrivilegeEscalation}, {"seccompProfile", e.SeccompProfileType},
					{"privileged", e.Privileged}, {"readOnlyRootFilesystem", e.ReadOnlyRootFilesystem}} {
					got := "not set"
					if f.f != nil {
						got = f.f.Value
					}
					check(pre+f.name, got, fmt.Sprint(lc[f.name]))
				}
				dropAll := false
				for _, d := range e.CapabilitiesDrop {
					dropAll = dropAll || d.Value == "ALL"
				}
				check(pre+"capabilities_drop_ALL", strconv.FormatBool(dropAll), fmt.Sprint(lc["capabilities_drop_ALL"]))
				var add, ports, priv []string
				for _, a := range e.CapabilitiesAdd {
					add = append(add, a.Value)
				}
				for _, p := range c.Ports {
					ports = append(ports, strconv.FormatInt(p.Port, 10))
					if p.Port < 1024 {
						priv = append(priv, strconv.FormatInt(p.Port, 10))
					}
				}
				check(pre+"capabilities_add", fmt.Sprint(add), labelSeq(lc["capabilities_add"]))
				check(pre+"containerPorts", fmt.Sprint(ports), labelSeq(lc["containerPorts"]))
				check(pre+"privileged_ports", fmt.Sprint(priv), labelSeq(lc["privileged_ports"]))
			}
		}
	}
	t.Logf("corpus: %d of %d labelled facts agree (%.1f%%) over %d files", agree, facts, 100*float64(agree)/float64(max(facts, 1)), len(keys))
}

func labelSeq(v any) string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return fmt.Sprint(out)
}

func labelList(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return listOrNone(out)
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, "; ")
}

// TestCorpusDiagnose runs every rule on the corpus manifests: no NR001 from a rule, no panic.
func TestCorpusDiagnose(t *testing.T) {
	corpus := diagtest.CorpusDir(t)
	s := alltest.Engine().NewSnapshot([]string{filepath.Join(corpus, "k8s"), filepath.Join(corpus, "openshift")}, diagnostics.Config{})
	n := 0
	for _, p := range s.Walk() {
		for _, f := range s.Diagnose(context.Background(), p) {
			n++
			if f.RuleID == "NR001" && strings.Contains(f.Message, "internal error") {
				t.Errorf("%s", f)
			}
		}
	}
	t.Logf("corpus: %d findings over %d files", n, len(s.Walk()))
}
