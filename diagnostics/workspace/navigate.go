package workspace

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// TargetsOf returns every build target the workspace's links give a Dockerfile, each once,
// the most trusted first ("" for its last stage): the targets NR1xx judge. None when no link
// names the Dockerfile.
func (g *Graph) TargetsOf(dockerfile string) []string {
	dockerfile = diagnostics.Clean(dockerfile)
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, l := range g.Links[:g.declaredN] {
		if l.Dockerfile == dockerfile {
			add(l.Target)
		}
	}
	for _, u := range g.UsesOf(dockerfile) {
		if u.Kind == diagnostics.KindCompose && u.Link.Source == SourceCompose {
			add(u.Link.Target)
		}
	}
	return out
}

// built returns the built stage of a link's Dockerfile (nil when it does not parse).
func built(s *diagnostics.Snapshot, l *Link) (*dockerfile.Model, *dockerfile.Stage) {
	m, err := dockerfile.For(s, l.Dockerfile)
	if err != nil || m.Fatal {
		return nil, nil
	}
	return m, m.Built(l.Target)
}

// definition: on an image of a manifest container or compose service, the FROM instruction of
// the linked Dockerfile's built stage.
func definition(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) []diagnostics.Location {
	u, ok := For(s).UseAt(f.Path, pos)
	if !ok || u.Link == nil {
		return nil
	}
	_, st := built(s, u.Link)
	if st == nil || st.From == nil {
		return []diagnostics.Location{{File: u.Link.Dockerfile}}
	}
	return []diagnostics.Location{{File: u.Link.Dockerfile, Range: st.From.Range()}}
}

// references: on a Dockerfile's FROM or USER, every manifest container and compose service
// that runs a stage built on it (the stage itself, or a later stage whose ancestry holds it).
func references(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) []diagnostics.Location {
	m := dockerfile.Of(f)
	if m.Fatal {
		return nil
	}
	in := m.InstructionAt(pos.Line)
	if in == nil || (in.Cmd != "from" && in.Cmd != "user") {
		return nil
	}
	var out []diagnostics.Location
	for _, u := range For(s).UsesOf(f.Path) {
		st := m.Built(u.Link.Target)
		if st == nil {
			continue
		}
		for _, a := range st.Ancestry() {
			if a == in.Stage {
				out = append(out, diagnostics.Location{File: u.File, Range: u.Range})
				break
			}
		}
	}
	return out
}

// hoverImage: on an image (manifest container, compose service) the link and its evidence,
// the image's effective user, and who the container will run as.
func hoverImage(_ context.Context, s *diagnostics.Snapshot, f *diagnostics.File, pos text.Pos) *diagnostics.Hover {
	g := For(s)
	u, ok := g.UseAt(f.Path, pos)
	if !ok {
		return nil
	}
	var b strings.Builder
	if u.Link == nil {
		amb := u.amb
		if amb == nil {
			return hoverCatalog(s, f, u)
		}
		switch amb.Why {
		case WhyTags:
			fmt.Fprintf(&b, "**nonroot-ls: image `%s` is not linked**: the workspace builds `%s` from %d Dockerfiles under different tags, and its tag picks none or several:\n\n", u.Image, ParseRef(u.Image).Key(), len(amb.Candidates))
		case WhyOwner:
			fmt.Fprintf(&b, "**nonroot-ls: image `%s` is not linked**: the workspace builds `%s`, another owner's image of that name, so the folder-name guess is rejected. Rejected candidate:\n\n", u.Image, amb.Owner)
		default:
			fmt.Fprintf(&b, "**nonroot-ls: image `%s` is not linked**: %d Dockerfiles could build it (folders named %q):\n\n", u.Image, len(amb.Candidates), ParseRef(u.Image).Name())
		}
		for _, a := range amb.Candidates {
			fmt.Fprintf(&b, "- `%s`\n", rel(s, a))
		}
		fmt.Fprintf(&b, "\nName the one that does in `%s`:\n\n```yaml\nimages:\n  - image: %s\n    dockerfile: %s\n```\n", diagnostics.ConfigFileName, ParseRef(u.Image).Key(), rel(s, amb.Candidates[0]))
		return &diagnostics.Hover{Range: u.Range, Markdown: b.String()}
	}
	l := u.Link
	fmt.Fprintf(&b, "**Built by** `%s`", rel(s, l.Dockerfile))
	if l.Target != "" {
		fmt.Fprintf(&b, " (target `%s`)", l.Target)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "**Link:** %s", evidenceWords(s, l))
	if l.Guess {
		b.WriteString(" — a guess: say so explicitly with `images:` in " + diagnostics.ConfigFileName)
	}
	b.WriteString("\n")
	for _, c := range g.ConflictsFor(l.Image) {
		fmt.Fprintf(&b, "\n**Conflict:** %s also links it, to `%s`; %s wins (more trusted, or first)\n", evidenceWords(s, c.Other), rel(s, c.Other.Dockerfile), c.Kept.Source)
	}
	m, st := built(s, l)
	if st == nil {
		if m == nil {
			b.WriteString("\nThe Dockerfile cannot be read or parsed.\n")
		}
		return &diagnostics.Hover{Range: u.Range, Markdown: b.String()}
	}
	iu := st.User()
	fmt.Fprintf(&b, "\n**Image user:** %s, from %s\n", iu.Describe(), iu.From())
	fmt.Fprintf(&b, "\n**Runs as:** %s\n", runsAs(s, f, u, iu))
	return &diagnostics.Hover{Range: u.Range, Markdown: b.String()}
}

// hoverCatalog: on an image no Dockerfile of the workspace builds, its catalog entry (who it
// runs as and why, its entrypoint, paths, ports, sources) and who the container will run as;
// or that nothing is known of it.
func hoverCatalog(s *diagnostics.Snapshot, f *diagnostics.File, u Use) *diagnostics.Hover {
	if u.Image == "" {
		return nil
	}
	im := imageOf(s, f.Path, u.Image, u.Range)
	if im == nil || im.linked() {
		return &diagnostics.Hover{Range: u.Range, Markdown: fmt.Sprintf("**nonroot-ls:** image `%s` is built by no Dockerfile of the workspace and is not in the image catalog: the user it runs as is unknown.", u.Image)}
	}
	md := im.cat.Markdown() + fmt.Sprintf("\n**Runs as:** %s\n", runsAs(s, f, u, im.user))
	return &diagnostics.Hover{Range: u.Range, Markdown: md}
}

func evidenceWords(s *diagnostics.Snapshot, l *Link) string {
	switch {
	case l.Source == SourceHeuristic:
		return fmt.Sprintf("heuristic (the repository's last path element names the folder of `%s`)", rel(s, l.Dockerfile))
	case l.Evidence.File == "":
		return fmt.Sprintf("%s (editor settings)", l.Source)
	}
	out := fmt.Sprintf("%s, `%s` line %d", l.Source, rel(s, l.Evidence.File), l.Evidence.Range.Start.Line+1)
	if l.Tag != "" {
		out += fmt.Sprintf(" (tags `%s`)", l.Tag)
	}
	if l.Via != nil {
		out += ", then " + evidenceWords(s, l.Via)
	}
	return out
}

// runsAs says who the container or service will run as, given its settings and the image user.
func runsAs(s *diagnostics.Snapshot, f *diagnostics.File, u Use, iu dockerfile.User) string {
	if u.Kind == diagnostics.KindCompose {
		if u.Service != nil && u.Service.HasUser {
			return fmt.Sprintf("`%s` (the service's `user:`)", u.Service.User)
		}
		return iu.Describe() + " (the image's user: the service sets no `user:`)"
	}
	m := kube.ForFile(f)
	for _, w := range m.Workloads {
		for _, c := range w.Containers {
			if c.ImageNode == nil || yamlnode.Range(m.Lines, c.ImageNode) != u.Range {
				continue
			}
			if uid, ok := c.Effective.RunAsUser.Int(); ok {
				return fmt.Sprintf("uid %d (runAsUser, %s level)", uid, c.Effective.RunAsUser.Level)
			}
			nonroot, _ := c.Effective.RunAsNonRoot.Bool()
			switch {
			case nonroot && iu.Kind == dockerfile.KindNamed:
				return fmt.Sprintf("nothing: the kubelet refuses to start it (runAsNonRoot and the named user %q, NR301)", iu.Name)
			case nonroot && iu.Kind == dockerfile.KindRoot:
				return "nothing: the kubelet refuses to start it (runAsNonRoot and an image that runs as root, NR302)"
			case s.ProfileFor(f.Path) == diagnostics.ProfileOpenShift:
				return "an arbitrary uid from the namespace's range, in group 0 (OpenShift restricted-v2)"
			}
			return iu.Describe() + " (the image's user: no runAsUser)"
		}
	}
	return iu.Describe()
}
