package openshift

import (
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
)

// Readiness is the profile's verdict on whether an image prepares for an arbitrary uid in
// group 0 (the corpus labels' `openshift_ready`).
type Readiness struct {
	// Verdict is "yes" (every path it writes is group-0 or world writable, it starts as
	// non-root without dropping privileges, no privileged port), "partial" (it prepares some
	// paths for an arbitrary uid but not everything), or "no" (nothing is prepared and
	// something stands in the way).
	Verdict string        `json:"verdict"`
	Reasons []string      `json:"reasons,omitempty"`
	Paths   []WrittenPath `json:"-"`
}

// ReadinessOf judges the built stage of the Dockerfile f.
func ReadinessOf(s *diagnostics.Snapshot, f *diagnostics.File) Readiness {
	st, paths := WrittenPaths(s, f)
	if st == nil {
		return Readiness{Verdict: "no", Reasons: []string{"the Dockerfile cannot be judged (does not parse, or builds a Windows image)"}}
	}
	r := Readiness{Paths: paths}
	prepared, blocked := 0, 0
	anc := st.Ancestry()
	root := anc[len(anc)-1]
	opaque := runsScripts(anc)
	for _, w := range paths {
		switch {
		case w.Status == StatusGroupZero:
			prepared++
		case w.Status == StatusWorld:
			// Any uid can write it, but not through group 0: the image is not laid out for
			// OpenShift (the labels' "partial").
			prepared++
			blocked++
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s is world-writable rather than group-0 writable", w.Reason, w.Path))
		case w.Status == StatusNotWritable:
			if w.Perm.GroupZero() && !w.Perm.GIDAssumed {
				prepared++ // given to group 0, only the group write is missing
			}
			blocked++
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s: %s", w.Reason, w.Path, describePerm(w.Perm)))
		case w.Status == StatusNotCreated && (root.Scratch || root.Base != nil) && !opaque:
			blocked++
			r.Reasons = append(r.Reasons, fmt.Sprintf("VOLUME %s is not created by the build", w.Path))
		}
	}
	u := st.User()
	if !u.NonRoot() {
		blocked++
		r.Reasons = append(r.Reasons, "runs as "+u.Describe()+" by default")
	}
	m := st.Model()
	for _, d := range m.PrivilegeDrops(s, st) {
		blocked++
		r.Reasons = append(r.Reasons, fmt.Sprintf("the entrypoint needs root: %s (%s)", d.Tool, strings.TrimSpace(d.Text)))
		break
	}
	if port := privilegedPort(st); port > 0 {
		blocked++
		r.Reasons = append(r.Reasons, fmt.Sprintf("EXPOSE %d: CRI-O does not let a non-root uid bind it", port))
	}
	switch {
	case blocked == 0:
		r.Verdict = "yes"
	case prepared > 0:
		r.Verdict = "partial"
	default:
		r.Verdict = "no"
	}
	return r
}

// privilegedPort returns the first EXPOSEd port below 1024 of the stage (0 when none, or when
// the build gives a binary cap_net_bind_service).
func privilegedPort(st *dockerfile.Stage) int {
	for _, s := range st.Model().Stages {
		for _, sc := range s.Setcaps {
			if strings.Contains(strings.ToLower(sc.Caps), "cap_net_bind_service") {
				return 0
			}
		}
	}
	for _, s := range st.Ancestry() {
		for _, p := range s.Ports {
			if p.Number > 0 && p.Number < 1024 {
				return p.Number
			}
		}
	}
	return 0
}
