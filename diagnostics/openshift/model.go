package openshift

import (
	"context"
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// ExampleRange is the uid-range annotation the explanations use when the workspace has none.
const ExampleRange = "1000940000/10000"

// sourceFact is the runtime fact and seed article the NR5xx rules rest on.
const sourceFact = "OpenShift `restricted-v2`: \"uid from the namespace annotation `openshift.io/sa.scc.uid-range` (e.g. `1000940000/10000`), gid 0 as a supplementary group, fsGroup from the same range; a `runAsUser` outside the range is rejected with `must be in the ranges: [...]`\"; \"whatever Openshifts selects as user ID, the user is always a member of the root group (group ID 0). So if we make sure that all files are accessible by the root group, Openshift can run the container process without any problems.\" (Friends don't let friends run containers as root)"

// ArbitraryUID explains OpenShift's arbitrary-uid model for the workload or image at hand:
// which uid the pod gets (from ns when known), why gid 0, what the image must do, and the
// source fact. It is the hover the NR5xx rules share.
func ArbitraryUID(ns *Namespace) string {
	var b strings.Builder
	b.WriteString("**OpenShift runs this container as an arbitrary uid in group 0** (SCC `restricted-v2`).\n\n")
	if ns != nil && len(ns.UIDs) > 0 {
		fmt.Fprintf(&b, "- **Which uid:** namespace `%s` has `%s: %s`, so the pod runs as uid **%d** (restricted-v2's `MustRunAsRange` takes the first uid of the range when `runAsUser` is not set); any `runAsUser` outside %s is rejected.\n",
			ns.Name, AnnotationUIDRange, ns.Raw, ns.UIDs[0].First, FormatRanges(ns.UIDs))
	} else {
		fmt.Fprintf(&b, "- **Which uid:** the first uid of the namespace's `%s` annotation, e.g. `%s` → uid 1000940000. Every project gets its own range, so the uid differs between clusters and projects; the image's `USER` is ignored.\n", AnnotationUIDRange, ExampleRange)
	}
	b.WriteString("- **Why gid 0:** the uid is not in the image's /etc/passwd, so no passwd group applies: the process runs with group 0 (the root *group*, which grants no privileges), and restricted-v2 keeps 0 among its groups. The uid changes from project to project; group 0 is the one identity the image can prepare its files for.\n")
	b.WriteString("- **What the image must do:** make every path it writes owned by group 0 and group-writable (`RUN chgrp -R 0 /data && chmod -R g=u /data` before `USER`), run as `USER <uid>:0` so Docker and Kubernetes behave the same, listen on ports ≥ 1024, start without root (no gosu/su-exec/runtime chown), and not need a passwd entry for its uid.\n")
	b.WriteString("- **What the manifest must not do:** hard-code `runAsUser`/`fsGroup` (rejected outside the range: `must be in the ranges: [...]`) or ask for anything restricted-v2 forbids (privileged, host namespaces/ports/paths, added capabilities beyond NET_BIND_SERVICE, privilege escalation, seccomp other than runtime/default).\n\n")
	fmt.Fprintf(&b, "> %s", sourceFact)
	return b.String()
}

// profileLine is the hover's last line: why the profile is on.
func profileLine(s *diagnostics.Snapshot, path string) string {
	r := Why(s, path)
	return fmt.Sprintf("\n\n*nonroot-ls:* %s.", r)
}

// hoverDockerfile explains the model on the built stage's USER and FROM lines.
func hoverDockerfile(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	if s.ProfileFor(f.Path) != diagnostics.ProfileOpenShift {
		return nil
	}
	m, st := dockerfile.BuiltStage(s, f)
	if st == nil {
		return nil
	}
	in := m.InstructionAt(pos.Line)
	if in == nil || (in.Cmd != "user" && in.Cmd != "volume") {
		return nil
	}
	r := in.Range()
	return &diagnostics.Hover{Range: r, Markdown: ArbitraryUID(anyNamespace(s)) + profileLine(s, f.Path)}
}

func anyNamespace(s *diagnostics.Snapshot) *Namespace {
	if nss := Namespaces(s); len(nss) == 1 {
		return nss[0]
	}
	return nil
}

// hoverManifest explains the model on securityContext keys, on OpenShift objects' kinds and
// on a Namespace's uid-range annotation.
func hoverManifest(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	if s.ProfileFor(f.Path) != diagnostics.ProfileOpenShift {
		return nil
	}
	m := kube.ForFile(f)
	for _, ns := range Namespaces(s) {
		if ns.File == f.Path && ns.Range.Start.Line == pos.Line {
			return &diagnostics.Hover{Range: ns.Range, Markdown: ArbitraryUID(ns) + profileLine(s, f.Path)}
		}
	}
	for _, o := range m.Objects {
		if kube.OpenShiftKinds[o.Kind] && o.KindRange.Contains(pos) {
			return &diagnostics.Hover{Range: o.KindRange, Markdown: fmt.Sprintf("**%s** is an OpenShift object: a workspace that holds one is checked with the `openshift` profile (NR501–NR504, stricter NR108/NR210/NR306).", o.Kind) + profileLine(s, f.Path)}
		}
	}
	for _, w := range m.Workloads {
		scs := []kube.SecurityContext{w.Pod}
		for _, c := range w.Containers {
			scs = append(scs, c.Own)
		}
		for _, sc := range scs {
			if sc.Key == nil {
				continue
			}
			if rg := yamlnode.Range(m.Lines, sc.Key); rg.Contains(pos) {
				return &diagnostics.Hover{Range: rg, Markdown: ArbitraryUID(NamespaceFor(s, w.Object)) + profileLine(s, f.Path)}
			}
		}
	}
	return nil
}
