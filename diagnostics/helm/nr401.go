package helm

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"go.yaml.in/yaml/v3"
)

// NR401 flags values security contexts that leave runAsNonRoot unset.
var NR401 = &diagnostics.Rule{
	ID:       "NR401",
	Title:    "Chart values leave the security context empty",
	Severity: diagnostics.SeverityWarning,
	Kinds:    helmKinds,
	FixTitle: "Fill in the restricted securityContext",
	Fix:      planNR401,
	Doc: diagnostics.Doc{
		Why: "`helm create` writes `podSecurityContext: {}` and `securityContext: {}` with the secure settings only as comments. " +
			"Commented keys are not set: every install of the chart runs its containers as whatever user the image names, root for most images. " +
			"A key holding only a switch (`securityContext: {enable: true}`) that the templates read as a boolean, never rendering it, is not reported.",
		Runtime: "Without `runAsNonRoot: true` the kubelet starts the container as the image's user, including uid 0; a namespace enforcing the " +
			"restricted Pod Security Standard rejects the pod (`violates PodSecurity \"restricted:latest\": runAsNonRoot != true`).",
		Fix: "Set the restricted block in values.yaml: `runAsNonRoot: true` and a non-root `runAsUser` (pod or container level), " +
			"`allowPrivilegeEscalation: false`, `capabilities: {drop: [ALL]}` and `seccompProfile: {type: RuntimeDefault}` for containers. " +
			"Users can still override it with their own values.",
		Source: "Seed 004: make `podSecurityContext`/`securityContext` configurable in values.yaml and non-empty by default. " +
			"Pod Security Standards, restricted: `runAsNonRoot` must be true at pod or container level.",
		Bad: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext: {}
  # fsGroup: 2000

securityContext: {}
  # capabilities:
  #   drop:
  #   - ALL
  # runAsNonRoot: true
  # runAsUser: 1000
` + exampleTemplate,
		Good: exampleChart + `-- values.yaml --
image:
  repository: ghcr.io/acme/app
  tag: "1.0"

podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
  seccompProfile:
    type: RuntimeDefault

securityContext:
  allowPrivilegeEscalation: false
  capabilities:
    drop:
      - ALL
  runAsNonRoot: true
` + exampleTemplate,
	},
	Run: runNR401,
}

// nr401Data is the payload of an NR401 finding for its quick-fix.
type nr401Data struct {
	Path []string // the security-context key's path in the values file
	Pod  bool     // a pod-level context (podSecurityContext) rather than a container's
	// Named is set when a linked image runs as a named user, so that runAsNonRoot alone would
	// make the kubelet refuse it: the fix sets runAsUser too, to the user's uid (UID, when the
	// Dockerfile gives it) or the configured default.
	Named bool
	UID   *int
}

func runNR401(pass *diagnostics.Pass) {
	c := For(pass.Snapshot, pass.File.Path)
	if c == nil {
		return
	}
	v := c.ValuesFor(pass.File.Path)
	if v == nil || v.Root == nil || c.Library {
		return
	}
	var a *Analysis
	if v.Prefix == "" {
		if a = Analyze(pass.Context(), pass.Snapshot, pass.File.Path); a != nil && a.Chart.Dir != c.Dir {
			a = nil // a subchart's values: markers are the root chart's
		}
	}
	for _, k := range scKeys(v) {
		if disabled(v, k) {
			continue
		}
		nonRoot := mapGet(k.Value, "runAsNonRoot")
		if isTrue(nonRoot) {
			continue
		}
		if nonRoot == nil && siblingNonRoot(v, k) {
			continue
		}
		if nonRoot == nil && onlySwitch(pass, c, v, k) {
			continue
		}
		name := k.Dotted()
		var msg string
		switch {
		case isFalse(nonRoot):
			msg = fmt.Sprintf("%s sets runAsNonRoot: false: the chart's containers may run as root (the image's user, uid 0 for most images)", name)
		case k.Value.Kind != yaml.MappingNode || len(k.Value.Content) == 0:
			msg = fmt.Sprintf("%s is empty (the `helm create` default): the rendered pods set no runAsNonRoot, so containers run as the image's user — root for most images", name)
		default:
			msg = fmt.Sprintf("%s lacks runAsNonRoot: true: nothing stops the containers from running as root (the restricted Pod Security Standard rejects such pods)", name)
		}
		rng := k.Range()
		if isFalse(nonRoot) {
			for _, kk := range v.Keys {
				if kk.Value == nonRoot {
					rng = kk.Range()
				}
			}
		}
		data := &nr401Data{Path: k.Path, Pod: isPodContext(k.Path[len(k.Path)-1])}
		if a != nil && mapGet(k.Value, "runAsUser") == nil {
			if nu := a.namedUsers(pass.Context(), c.sourceIndex(v), k.Dotted()); len(nu) > 0 {
				n := nu[0]
				msg += fmt.Sprintf("; runAsNonRoot: true alone will not do: image %s (built by %s) runs as the named user %q, which the kubelet refuses with runAsNonRoot (%s), so set runAsUser too", n.image, n.dockerfile, n.user.Name, n.where)
				data.Named, data.UID = true, n.user.UID
			}
		}
		pass.Report(diagnostics.Finding{Range: rng, Message: msg, Data: data})
	}
}

// onlySwitch reports whether k holds nothing but booleans (`securityContext: {enable: true}`)
// and the chart, rendered, never writes it out as a security context: its templates read it
// as a switch (for a context they write themselves, NR402's business), so it is not an empty
// security context.
func onlySwitch(pass *diagnostics.Pass, c *Chart, v *Values, k *Key) bool {
	if k.Value.Kind != yaml.MappingNode || len(k.Value.Content) == 0 {
		return false
	}
	for i := 1; i < len(k.Value.Content); i += 2 {
		if n := k.Value.Content[i]; !isTrue(n) && !isFalse(n) {
			return false
		}
	}
	a := Analyze(pass.Context(), pass.Snapshot, pass.File.Path)
	return a != nil && a.Real.Err == nil && !a.MarkerUsed(pass.Context(), c.sourceIndex(v), k.Dotted())
}

// siblingNonRoot reports whether another security context in the same mapping (the pod's
// for a container's, or the reverse) sets runAsNonRoot: true.
func siblingNonRoot(v *Values, k *Key) bool {
	parent := v.Root
	if len(k.Path) > 1 {
		p := v.Lookup(strings.Join(k.Path[:len(k.Path)-1], "."))
		if p == nil {
			return false
		}
		parent = p.Value
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		kn, vn := parent.Content[i], parent.Content[i+1]
		if kn == k.Key || !IsSecurityContextKey(kn.Value) || isFalse(mapGet(vn, "enabled")) {
			continue
		}
		if isTrue(mapGet(vn, "runAsNonRoot")) {
			return true
		}
	}
	return false
}

func restrictedBlock(pod, podSibling bool, uid int) []diagnostics.Setting {
	seccomp := diagnostics.Setting{Key: "seccompProfile", Children: []diagnostics.Setting{{Key: "type", Scalar: "RuntimeDefault"}}}
	runAsUser := diagnostics.Setting{Key: "runAsUser", Scalar: strconv.Itoa(uid), ReplaceOnly: "0"}
	if pod {
		return []diagnostics.Setting{{Key: "runAsNonRoot", Scalar: "true"}, runAsUser, seccomp}
	}
	block := []diagnostics.Setting{
		{Key: "allowPrivilegeEscalation", Scalar: "false"},
		{Key: "capabilities", Children: []diagnostics.Setting{{Key: "drop", Items: []string{"ALL"}}}},
		{Key: "runAsNonRoot", Scalar: "true"},
	}
	if !podSibling {
		block = append(block, runAsUser, seccomp)
	}
	return block
}

func planNR401(ctx context.Context, s *diagnostics.Snapshot, f diagnostics.Finding) []diagnostics.Action {
	d, ok := f.Data.(*nr401Data)
	if !ok {
		return nil
	}
	c := For(s, f.File)
	if c == nil {
		return nil
	}
	v := c.ValuesFor(f.File)
	k := v.Lookup(strings.Join(d.Path, "."))
	if k == nil {
		return nil
	}
	cfg := s.ConfigFor(f.File)
	uid, _ := cfg.User()
	// An empty context gets the whole restricted block; one with settings of its own only
	// what the rule asks for, so the chart's other choices (its uid, its seccomp) stay.
	block := []diagnostics.Setting{{Key: "runAsNonRoot", Scalar: "true"}}
	title := fmt.Sprintf("Set runAsNonRoot: true in %s", k.Dotted())
	if d.Named {
		// The linked image runs as a named user: runAsNonRoot needs a uid said too.
		if d.UID != nil && *d.UID > 0 {
			uid = *d.UID
		}
		block = append(block, diagnostics.Setting{Key: "runAsUser", Scalar: strconv.Itoa(uid)})
		title = fmt.Sprintf("Set runAsNonRoot: true and runAsUser: %d in %s", uid, k.Dotted())
	}
	if codeactions.IsEmptyMapping(k.Value) {
		block = restrictedBlock(d.Pod, hasPodSibling(v, k) && !d.Named, uid)
		title = fmt.Sprintf("Fill in the restricted %s", k.Dotted())
	}
	edits := codeactions.EnsureSettings(v.File.Lines(), k.entry(), block)
	if len(edits) == 0 {
		return nil
	}
	return []diagnostics.Action{{Title: title, Preferred: true, Edits: []diagnostics.FileEdit{{Path: f.File, Edits: edits}}}}
}

// hasPodSibling reports whether k's mapping also holds a pod-level security context.
func hasPodSibling(v *Values, k *Key) bool {
	parent := v.Root
	if len(k.Path) > 1 {
		p := v.Lookup(strings.Join(k.Path[:len(k.Path)-1], "."))
		if p == nil {
			return false
		}
		parent = p.Value
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		n := strings.ToLower(parent.Content[i].Value)
		if parent.Content[i] != k.Key && strings.HasPrefix(n, "pod") && strings.HasSuffix(n, "securitycontext") {
			return true
		}
	}
	return false
}
