// Package diagnostics is the nonroot-ls engine: the models of the files that decide who a
// container runs as, the rules that judge them, and the snapshot that ties files together.
// It has no LSP types: positions are [text.Pos] (byte columns) and the server converts them.
//
// A rule is a value ([Rule]) with its ID, severity, documentation, a Run function and its
// quick-fix, in the manner of golang.org/x/tools/go/analysis; each lives in one file of its
// group (diagnostics/<group>/nrNNN.go). The engine is built from an explicit list of rules
// ([New]; diagnostics/all has the product's list), and the documentation under docs/rules is
// generated from the same values.
package diagnostics

import (
	"context"
	"fmt"
	"strings"
)

// Severity of a finding. The values match the Language Server Protocol's DiagnosticSeverity.
type Severity int

const (
	SeverityOff Severity = iota // the rule is turned off
	SeverityError
	SeverityWarning
	SeverityInfo
	SeverityHint
)

var severityNames = [...]string{"off", "error", "warning", "info", "hint"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses "off", "error", "warning", "info" or "hint" (also "information", "none").
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "none", "ignore":
		return SeverityOff, nil
	case "error":
		return SeverityError, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "info", "information":
		return SeverityInfo, nil
	case "hint", "style":
		return SeverityHint, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want off, error, warning, info or hint)", s)
}

// AtLeast reports whether s is at least as severe as t (error is the most severe). Off is never.
func (s Severity) AtLeast(t Severity) bool {
	return s != SeverityOff && t != SeverityOff && s <= t
}

// Profile selects which rules run and at which severity.
type Profile string

const (
	ProfileKubernetes Profile = "kubernetes" // the default
	ProfileOpenShift  Profile = "openshift"  // adds NR5xx, raises NR108/NR210/NR306
	ProfileDocker     Profile = "docker"     // Dockerfile and compose only
)

// ParseProfile parses a profile name; "" is the default profile.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return ProfileKubernetes, nil
	case ProfileKubernetes, ProfileOpenShift, ProfileDocker:
		return p, nil
	}
	return "", fmt.Errorf("unknown profile %q (want kubernetes, openshift or docker)", s)
}

// Doc is a rule's documentation: the hover text and the generated docs page.
type Doc struct {
	Why     string // why it matters
	Runtime string // what happens at runtime
	Fix     string // how to fix it
	Source  string // the runtime fact or seed article the rule rests on, quoted
	Bad     string // a short example that triggers the rule: a file, or a txtar archive of files
	Good    string // the same example fixed (diagtest.RunDocExamples checks both)
}

// Rule is one check.
type Rule struct {
	ID       string
	Title    string
	Severity Severity // default severity
	// SeverityIn overrides the default severity in a profile (NR108 is a warning under openshift).
	SeverityIn map[Profile]Severity
	// Profiles the rule runs in; nil means every profile.
	Profiles []Profile
	// Kinds of file the rule runs on.
	Kinds []FileKind
	Doc   Doc
	// FixTitle names the quick-fix in the documentation ("" when the rule has none).
	FixTitle string
	// Fix plans the quick-fixes of one of the rule's findings as plain text edits (possibly
	// in several files); none when it cannot fix that case. Nil when the rule has no fix.
	// The package codeactions has the editing toolkit fixes use.
	Fix func(ctx context.Context, s *Snapshot, f Finding) []Action
	// Field is the securityContext field a workload rule judges ("" when none): a finding on a
	// rendered chart is reported at the values key that sets it (NR404).
	Field string
	// Settings is the rule's fix as securityContext settings (nil when it has none), for
	// fixes that write where a field is set rather than in the manifest: Helm values (NR404).
	// uid and gid are the identity to write.
	Settings func(uid, gid int) []Setting
	// Hadolint lists hadolint rule codes whose ignore comments also silence this rule.
	Hadolint []string
	// Run reports the rule's findings on pass.File.
	Run func(pass *Pass)
}

// SeverityFor returns the rule's default severity under profile p.
func (r *Rule) SeverityFor(p Profile) Severity {
	if s, ok := r.SeverityIn[p]; ok {
		return s
	}
	return r.Severity
}

// RunsIn reports whether the rule runs under profile p.
func (r *Rule) RunsIn(p Profile) bool {
	if r.Profiles == nil {
		return true
	}
	for _, q := range r.Profiles {
		if q == p {
			return true
		}
	}
	return false
}

// RunsOn reports whether the rule runs on files of kind k.
func (r *Rule) RunsOn(k FileKind) bool {
	for _, q := range r.Kinds {
		if q == k {
			return true
		}
	}
	return false
}

// DocURL is where the rule's generated page is published.
func (r *Rule) DocURL() string {
	return DocsBaseURL + r.ID + ".md"
}

// DocsBaseURL is the prefix of the rule pages (docs/rules in the repository).
const DocsBaseURL = "https://github.com/nonroot-ls/nonroot-ls/blob/main/docs/rules/"

// Setting is one securityContext setting a fix writes, as data.
type Setting struct {
	Key      string
	Scalar   string    // a scalar value
	Children []Setting // a nested mapping
	Items    []string  // a sequence of scalars that must contain these items
	// ReplaceOnly, when set, replaces an existing scalar only when it equals this value
	// (runAsUser: 0 is replaced, runAsUser: 1001 is kept).
	ReplaceOnly string
	NoInsert    bool // do not add the key when it is absent
}
