package imagecatalog

import (
	"fmt"
	"strings"
)

// Describe is the user in words: "root", "uid 472 (grafana)", "jenkins (uid 1000)".
func (u User) Describe() string {
	switch {
	case u.Root():
		return "root"
	case u.Numeric():
		out := "uid " + strings.TrimLeft(strings.SplitN(u.Config, ":", 2)[0], "0")
		if u.Name != "" {
			out += " (" + u.Name + ")"
		}
		return out
	case u.UID != nil:
		return fmt.Sprintf("%s (uid %d)", u.Name, *u.UID)
	}
	return u.Name
}

// RunAsUID returns the non-root uid the image is prepared to run as: its user's uid, or, for
// an image that starts as root, the uid of the user its entrypoint steps down to when the
// step-down only runs when started as root (started as that uid, the entrypoint goes on as
// it). ok is false when the image has no such uid.
func (e *Entry) RunAsUID() (uid int, ok bool) {
	if !e.User.Root() {
		if e.User.UID != nil && *e.User.UID > 0 {
			return *e.User.UID, true
		}
		return 0, false
	}
	if sd := e.StepDown; sd != nil && sd.Conditional && sd.UID != nil && *sd.UID > 0 {
		return *sd.UID, true
	}
	return 0, false
}

// Describe is a step-down in words: "steps down to postgres (uid 999) with gosu when started
// as root".
func (s *StepDown) Describe() string {
	to := s.User
	if s.UID != nil {
		switch {
		case to == "":
			to = fmt.Sprintf("uid %d", *s.UID)
		case to != fmt.Sprint(*s.UID):
			to = fmt.Sprintf("%s (uid %d)", to, *s.UID)
		}
	}
	out := "steps down"
	if to != "" {
		out += " to " + to
	}
	out += " with " + s.Tool
	switch {
	case s.Conditional:
		out += " when started as root"
	case s.Env != "":
		out += " only when " + s.Env + " is set"
	default:
		out += " whoever starts it: it must start as root"
	}
	return out
}

// String is a source as provenance: "docker-library/postgres 16/trixie/Dockerfile@31041e4".
func (s Source) String() string {
	c := s.Commit
	if len(c) > 7 {
		c = c[:7]
	}
	return s.Repo + " " + s.Path + "@" + c
}

// Origin is the source that tells the entry's user: its Dockerfile, else the hand-written
// overlay's citation, else its first source.
func (e *Entry) Origin() Source { return e.OriginFor("") }

// OriginFor is Origin for a tag: an entry holds the tags of every Dockerfile that gives the
// same facts, and the Dockerfile whose folder names the tag best ("3.13/slim-trixie" for
// python:3.13-slim) is the one cited.
func (e *Entry) OriginFor(tag string) Source {
	var best Source
	score := -1
	for _, role := range []string{"dockerfile", "overlay"} {
		for _, s := range e.Sources {
			if s.Role != role {
				continue
			}
			if sc := tagScore(tag, s.Path); sc > score {
				best, score = s, sc
			}
		}
		if score >= 0 {
			return best
		}
	}
	if len(e.Sources) > 0 {
		return e.Sources[0]
	}
	return Source{}
}

// tagScore is how well a Dockerfile's path names a tag: its first folder is the tag's
// version (the part before the first "-"), and each other part of the tag is a folder.
func tagScore(tag, p string) int {
	dirs := strings.Split(p, "/")
	score := 0
	for i, part := range strings.Split(tag, "-") {
		for j, d := range dirs[:len(dirs)-1] {
			switch {
			case i == 0 && j == 0 && d == part:
				score += 2
			case i > 0 && strings.HasPrefix(d, part):
				score++
			}
		}
	}
	return score
}

// Describe says in a sentence who the image runs as, where that comes from and what its
// entrypoint does: "postgres:16 runs as root (docker-library/postgres
// 16/trixie/Dockerfile@31041e4: no USER: inherited from the base image debian:trixie-slim
// (root)); its entrypoint steps down to postgres (uid 999) with gosu when started as root".
// A tag the catalog does not list says so. "" when the reference is unknown.
func (r Result) Describe() string {
	e := r.Entry
	if e == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s runs as %s (%s: %s)", r.Ref.Repository+tagPart(r.Ref), e.User.Describe(), e.OriginFor(r.Ref.Tag), e.Why)
	if sd := e.StepDown; sd != nil {
		b.WriteString("; its entrypoint " + sd.Describe())
	}
	if r.TagUnknown() {
		what := "tag " + r.Ref.Tag
		if r.Ref.Tag == "" {
			what = "this digest"
		}
		fmt.Fprintf(&b, "; the catalog does not list %s of %s: these are the facts of its default family (%s)", what, r.Ref.Repository, e.Example)
	}
	return b.String()
}

// Markdown is the entry as a hover shows it: who the image runs as and why, its
// entrypoint's step-down, the paths it writes, its ports, its OpenShift readiness and the
// files the facts come from. "" when the reference is unknown.
func (r Result) Markdown() string {
	e := r.Entry
	if e == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Image catalog:** `%s` runs as **%s** — %s.\n", r.Ref.Repository+tagPart(r.Ref), e.User.Describe(), e.Why)
	if r.TagUnknown() {
		what := "tag `" + r.Ref.Tag + "`"
		if r.Ref.Tag == "" {
			what = "this digest"
		}
		fmt.Fprintf(&b, "\nThe catalog does not list %s: these are the facts of the repository's default family (`%s`).\n", what, e.Example)
	}
	if sd := e.StepDown; sd != nil {
		fmt.Fprintf(&b, "\n**Entrypoint:** %s (`%s` line %d).\n", sd.Describe(), sd.File, sd.Line)
	}
	if len(e.Paths) > 0 {
		b.WriteString("\n**Writes:**")
		for i, p := range e.Paths {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " `%s`", p.Path)
			var attrs []string
			if p.Volume {
				attrs = append(attrs, "VOLUME")
			}
			if p.UID != nil {
				owner := fmt.Sprint(*p.UID)
				if p.Owner != "" {
					owner = p.Owner + " " + owner
				}
				if p.GID != nil {
					owner += fmt.Sprintf(":%d", *p.GID)
				}
				attrs = append(attrs, "owner "+owner)
			}
			if p.Mode != "" {
				attrs = append(attrs, "mode "+p.Mode)
			}
			if len(attrs) > 0 {
				b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
			}
		}
		b.WriteString(".\n")
	}
	if len(e.Ports) > 0 {
		fmt.Fprintf(&b, "\n**Ports:** %s", strings.Join(e.Ports, ", "))
		if e.NetBindService {
			b.WriteString(" (a binary has cap_net_bind_service)")
		}
		b.WriteString(".\n")
	}
	ready := "not ready"
	if e.OpenShift.Ready {
		ready = "ready"
	}
	fmt.Fprintf(&b, "\n**OpenShift** (arbitrary uid, group 0): %s — %s.\n", ready, e.OpenShift.Why)
	b.WriteString("\n**Sources:**\n")
	for _, s := range e.Sources {
		fmt.Fprintf(&b, "- %s (%s)\n", s, s.Role)
	}
	return b.String()
}

func tagPart(r Ref) string {
	switch {
	case r.Tag != "":
		return ":" + r.Tag
	case r.Digest != "":
		return "@" + r.Digest[:min(len(r.Digest), 19)]
	}
	return ""
}
