package kube_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	sigsyaml "sigs.k8s.io/yaml"
)

// ruleChecks: which of our rules answer for which Pod Security Admission check.
var ruleChecks = map[string][]string{
	kube.CheckRunAsNonRoot:             {"NR201", "NR202"},
	kube.CheckRunAsUser:                {"NR202"},
	kube.CheckAllowPrivilegeEscalation: {"NR203"},
	kube.CheckCapabilities:             {"NR204"},
	kube.CheckPrivileged:               {"NR205"},
	kube.CheckSeccomp:                  {"NR206"},
	kube.CheckHostPath:                 {"NR209"},
}

var evaluator = func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return e
}()

// psaFails runs PSA's own evaluator (baseline and restricted, latest) on the pod spec as sigs.k8s.io/yaml
// decodes it, independently of the model's typed spec, and returns the failed reasons.
func psaFails(t *testing.T, w *kube.Workload) map[string]bool {
	// Independent decode: the workload's object → JSON (sigs.k8s.io/yaml) → typed pod spec.
	var ps corev1.PodSpec
	obj := extract(t, w)
	// The checks compared read no container's resources, ports, env or probes: they are
	// left out, so that a template parameter there (${MEMORY_LIMIT} in a quantity) does not
	// stop the decoding. Any other value of the wrong type fails its field only.
	var spec map[string]any
	if json.Unmarshal(obj, &spec) == nil {
		for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
			cs, _ := spec[list].([]any)
			for _, c := range cs {
				if c, ok := c.(map[string]any); ok {
					for _, k := range []string{"resources", "ports", "env", "envFrom", "livenessProbe", "readinessProbe", "startupProbe"} {
						delete(c, k)
					}
				}
			}
		}
		obj, _ = json.Marshal(spec)
	}
	_ = json.Unmarshal(obj, &ps)
	out := map[string]bool{}
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		for _, r := range evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, w.PodMeta, &ps) {
			if !r.Allowed {
				out[string(level)+":"+r.ForbiddenReason] = true
			}
		}
	}
	return out
}

// reasonOf maps a check to the ForbiddenReason PSA gives when it fails.
var reasonOf = map[string]string{
	kube.CheckRunAsNonRoot:             "restricted:runAsNonRoot != true",
	kube.CheckRunAsUser:                "restricted:runAsUser=0",
	kube.CheckAllowPrivilegeEscalation: "restricted:allowPrivilegeEscalation != false",
	kube.CheckCapabilities:             "restricted:unrestricted capabilities",
	kube.CheckPrivileged:               "baseline:privileged",
	kube.CheckSeccomp:                  "restricted:seccompProfile",
	kube.CheckHostPath:                 "baseline:hostPath volumes",
}

// extract returns the pod spec of w as JSON, converted by sigs.k8s.io/yaml from the YAML text
// of the model's node.
func extract(t *testing.T, w *kube.Workload) []byte {
	v, err := sigsyaml.YAMLToJSON([]byte(nodeText(w)))
	if err != nil {
		t.Fatalf("YAMLToJSON: %v", err)
	}
	return v
}

func nodeText(w *kube.Workload) string {
	var b strings.Builder
	yaml.NewEncoder(&b).Encode(w.Spec)
	return b.String()
}

// agreement diagnoses every manifest of s and compares, per workload and check, whether our
// rules fire with whether PSA fails. It returns (agreeing, total) decisions.
func agreement(t *testing.T, s *diagnostics.Snapshot) (int, int) {
	agree, total := 0, 0
	for _, p := range s.Walk() {
		f, err := s.File(p)
		if err != nil || f.Kind != diagnostics.KindManifest || strings.Contains(f.Text, "nonroot-ls ignore") || len(s.BuiltBy(p)) > 0 {
			continue // a kustomize base or patch is judged as built, not alone
		}
		fired := map[*kube.Workload]map[string]bool{}
		for _, fd := range s.Diagnose(context.Background(), p) {
			w, check, ok := kube.CheckOf(fd)
			if !ok {
				continue
			}
			if fired[w] == nil {
				fired[w] = map[string]bool{}
			}
			if check == "" && fd.RuleID == "NR209" {
				check = kube.CheckHostPath
			}
			if check != "" {
				fired[w][check] = true
			}
		}
		for _, w := range kube.ForFile(f).Workloads {
			fails := psaFails(t, w)
			var checks []string
			for c := range ruleChecks {
				checks = append(checks, c)
			}
			sort.Strings(checks)
			for _, c := range checks {
				total++
				psa := fails[reasonOf[c]]
				if fired[w][c] == psa {
					agree++
				} else {
					t.Errorf("%s %s/%s: PSA %s failed=%v, our %v fired=%v", filepath.Base(p), w.Object.Kind, w.Object.Name, c, psa, ruleChecks[c], fired[w][c])
				}
			}
		}
	}
	return agree, total
}

func TestPSAAgreementFixturesAndCorpus(t *testing.T) {
	var roots []string
	for _, d := range diagtest.Fixtures(t, "NR2") {
		abs, _ := filepath.Abs(d)
		roots = append(roots, abs)
	}
	agree, total := agreement(t, alltest.Engine().NewSnapshot(roots, diagnostics.Config{}))
	t.Logf("fixtures: %d of %d workload×check decisions agree with pod-security-admission", agree, total)
	corpus := diagtest.CorpusDir(t)
	{
		agree, total = agreement(t, alltest.Engine().NewSnapshot([]string{filepath.Join(corpus, "k8s"), filepath.Join(corpus, "openshift")}, diagnostics.Config{}))
		t.Logf("corpus: %d of %d workload×check decisions agree with pod-security-admission", agree, total)
	}
}

// TestPSAAgreementGenerated builds pods from every kind of securityContext setting, at pod
// and container level, and checks that NR201–NR206/NR209 fire exactly when PSA fails.
func TestPSAAgreementGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	pick := func(opts ...string) string { return opts[r.Intn(len(opts))] }
	dir := t.TempDir()
	s := alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{})
	n := 1500
	if testing.Short() {
		n = 200
	}
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p%d\nspec:\n", i)
		if v := pick("", "", "false", "true"); v != "" {
			fmt.Fprintf(&b, "  hostUsers: %s\n", v)
		}
		pod := []string{}
		if v := pick("", "true", "false"); v != "" {
			pod = append(pod, "runAsNonRoot: "+v)
		}
		if v := pick("", "0", "1000"); v != "" {
			pod = append(pod, "runAsUser: "+v)
		}
		if v := pick("", "RuntimeDefault", "Unconfined", "Localhost"); v != "" {
			pod = append(pod, "seccompProfile: {type: "+v+"}")
		}
		if len(pod) > 0 {
			b.WriteString("  securityContext:\n")
			for _, l := range pod {
				b.WriteString("    " + l + "\n")
			}
		}
		if pick("", "", "", "hp") != "" {
			b.WriteString("  volumes:\n  - name: h\n    hostPath: {path: /var}\n")
		}
		for _, list := range []string{"initContainers", "containers"} {
			count := r.Intn(3)
			if list == "containers" {
				count++
			}
			if count == 0 {
				continue
			}
			b.WriteString("  " + list + ":\n")
			for j := 0; j < count; j++ {
				fmt.Fprintf(&b, "  - name: c%d\n    image: img\n", j)
				var sc []string
				if v := pick("", "true", "false"); v != "" {
					sc = append(sc, "runAsNonRoot: "+v)
				}
				if v := pick("", "0", "2000"); v != "" {
					sc = append(sc, "runAsUser: "+v)
				}
				if v := pick("", "true", "false", "false"); v != "" {
					sc = append(sc, "allowPrivilegeEscalation: "+v)
				}
				if v := pick("", "true", "false"); v != "" && r.Intn(3) == 0 {
					sc = append(sc, "privileged: "+v)
				}
				drop := pick("", "[ALL]", "[ALL]", "[NET_RAW]")
				add := pick("", "", "[NET_BIND_SERVICE]", "[SYS_ADMIN]")
				if drop != "" || add != "" {
					caps := []string{}
					if drop != "" {
						caps = append(caps, "drop: "+drop)
					}
					if add != "" {
						caps = append(caps, "add: "+add)
					}
					sc = append(sc, "capabilities: {"+strings.Join(caps, ", ")+"}")
				}
				if v := pick("", "", "RuntimeDefault", "Unconfined", "Localhost"); v != "" {
					sc = append(sc, "seccompProfile: {type: "+v+"}")
				}
				if len(sc) > 0 {
					b.WriteString("    securityContext:\n")
					for _, l := range sc {
						b.WriteString("      " + l + "\n")
					}
				}
			}
		}
		s = s.WithFile(filepath.Join(dir, fmt.Sprintf("p%04d.yaml", i)), 1, "yaml", b.String())
	}
	agree, total := agreement(t, s)
	t.Logf("generated: %d of %d workload×check decisions agree with pod-security-admission (%d pods)", agree, total, n)
}
