package kube

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"k8s.io/pod-security-admission/policy"
)

// NR201 — runAsNonRoot: true is set at neither pod nor container level.
var NR201 = &diagnostics.Rule{
	ID:       "NR201",
	Title:    "runAsNonRoot is not set",
	Severity: diagnostics.SeverityError,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsNonRoot: true (and runAsUser when the image's user is a name, root or unknown) to the pod securityContext",
	Fix:      fix(planNR201),
	Field:    "runAsNonRoot",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "runAsNonRoot", Scalar: "true"}}
	},
	Doc: diagnostics.Doc{
		Why:     "Without `runAsNonRoot: true` nothing stops the container from running as root: the image's USER decides, and most images run as root.",
		Runtime: "The container runs as whatever user the image says, root for most official images. A container that sets `runAsUser` > 0, or whose image runs as a non-root user, does not run as root, but nothing enforces it (another image or `runAsUser: 0` would). Either way, a namespace enforcing the `restricted` Pod Security Standard rejects the pod: `violates PodSecurity \"restricted:latest\": runAsNonRoot != true`.",
		Fix:     "Set `runAsNonRoot: true` in the pod's `securityContext` (it covers every container). With it alone, the kubelet refuses to start a container whose image runs as root or as a named user: set `runAsUser` to the non-root uid the image runs as too (the quick-fix does: the uid the linked Dockerfile creates or the image catalog knows, else the configured default). An image whose entrypoint must start as root (gosu, su-exec…) needs fixing first.",
		Source:  psaSource + "\"Containers must be required to run as non-root users\": spec.securityContext.runAsNonRoot must be true, or every container's securityContext.runAsNonRoot must be true. Pods with `hostUsers: false` are exempt from 1.35.",
		Bad:     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
		Good:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: web\n    image: nginxinc/nginx-unprivileged\n",
	},
	Run: func(pass *diagnostics.Pass) {
		// What the workload alone says is kept with it; what the Dockerfile its image is
		// linked to says is looked up on every run (then): the Dockerfile may change.
		then := func(f diagnostics.Finding) diagnostics.Finding {
			d, ok := f.Data.(*data)
			if !ok || d.Container == nil || d.Container.Effective.RunAsUser != nil {
				return f
			}
			if info := pass.Snapshot.Image(pass.File.Path, d.Container.Image); info.NonRoot() {
				from := info.From
				if info.Dockerfile != "" {
					from += " of " + info.Dockerfile
				}
				f.Message = notEnforced(d.Container, d.Workload, fmt.Sprintf("%s (the image's user, %s)", info.User, from), d.Workload.containerVerdict(d.Container, CheckRunAsNonRoot))
			}
			return f
		}
		eachWorkloadThen(pass, failing(CheckRunAsNonRoot, func(m *Manifest, w *Workload, c *Container, r policy.CheckResult, out *findings) {
			if f := c.Own.RunAsNonRoot; f != nil {
				if b, ok := f.Bool(); ok && !b {
					return // explicitly false: NR202
				}
			}
			d := &data{Workload: w, Container: c, Check: CheckRunAsNonRoot}
			if uid, ok := c.Effective.RunAsUser.Int(); ok && uid > 0 {
				out.add(c.Anchor(m.Lines), d, "%s", notEnforced(c, w, fmt.Sprintf("uid %d (runAsUser)", uid), r))
				return
			}
			why := "runAsNonRoot is set at neither pod nor container level"
			if f := c.Effective.RunAsNonRoot; f != nil && placeholder.MatchString(f.Value) {
				why = "runAsNonRoot is not set to true"
			}
			out.add(c.Anchor(m.Lines), d, "%s of %s may run as root: %s, so the image's user decides; %s",
				c.Label(), objLabel(w), why, Violation(CheckRunAsNonRoot, r))
		}), then)
	},
}

// notEnforced is NR201's message for a container known to run as a non-root user (who):
// nothing enforces it, and admission rejects the pod.
func notEnforced(c *Container, w *Workload, who string, r policy.CheckResult) string {
	return fmt.Sprintf("%s of %s runs as %s, but runAsNonRoot is set at neither pod nor container level: the pod is not enforced non-root (nothing stops a root image or runAsUser: 0 from running), and restricted admission rejects it; %s",
		c.Label(), objLabel(w), who, Violation(CheckRunAsNonRoot, r))
}

// planNR201 sets runAsNonRoot: true on the pod and, so that the fix never leaves a pod the
// kubelet refuses, runAsUser too when a container that sets none runs an image whose user
// is a name, root or unknown: the uid the first such image runs as (its own non-root uid when
// known, else the configured default).
func planNR201(s *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	w := d.Workload
	entries := []codeactions.YAMLEntry{codeactions.Entry("runAsNonRoot", codeactions.Scalar("true"))}
	title := "Add runAsNonRoot: true to the pod securityContext"
	var needsRoot []string
	for _, c := range w.Containers {
		if info := s.Image(d.Manifest.Path, c.Image); info != nil && info.NeedsRoot {
			needsRoot = append(needsRoot, c.Image)
		}
	}
	if _, ok := w.Pod.RunAsUser.Int(); !ok {
		for _, c := range w.Containers {
			if _, ok := c.Own.RunAsUser.Int(); ok || !needsUID(s, d.Manifest.Path, c) {
				continue
			}
			uid := fixUIDFor(s, d.Manifest.Path, c)
			entries = append(entries, codeactions.Entry("runAsUser", codeactions.Scalar(strconv.Itoa(uid))))
			title = fmt.Sprintf("Add runAsNonRoot: true and runAsUser: %d to the pod securityContext", uid)
			break
		}
	}
	fx, err := set(e, title, w.Spec, []string{"securityContext"}, codeactions.Map(entries...))
	if len(needsRoot) > 0 {
		// Not applied by fix-all: the pod would crash-loop until the image changes.
		fx.notPreferred = true
		fx.title += fmt.Sprintf(" (the entrypoint of %s must start as root: fix the image first)", strings.Join(needsRoot, ", "))
	}
	return fx, err
}

// needsUID reports whether, with runAsNonRoot: true and no runAsUser, the kubelet would
// refuse container c or cannot tell: its image's user is a name, root or unknown.
func needsUID(s *diagnostics.Snapshot, path string, c *Container) bool {
	if c.Image == "" {
		return true
	}
	info := s.Image(path, c.Image)
	return info == nil || info.Kind != "numeric" || info.UID == nil || *info.UID == 0
}

// fixUIDFor is the uid a fix writes as container c's runAsUser.
func fixUIDFor(s *diagnostics.Snapshot, path string, c *Container) int {
	if info := s.Image(path, c.Image); info != nil && info.FixUID > 0 {
		return info.FixUID
	}
	cfg := s.ConfigFor(path)
	uid, _ := cfg.User()
	return uid
}
