package diagnostics

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Finding is one reported problem.
type Finding struct {
	RuleID   string     `json:"rule"`
	Severity Severity   `json:"-"`
	File     string     `json:"file"`
	Range    text.Range `json:"range"`
	Message  string     `json:"message"`
	Related  []Related  `json:"related,omitempty"`
	// Data is the rule's payload for its own fix (a type private to the rule's group; never
	// serialised).
	Data any `json:"-"`
}

// Related points at another place that explains a finding (often in another file).
type Related struct {
	File    string     `json:"file"`
	Range   text.Range `json:"range"`
	Message string     `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%s: %s %s: %s", f.File, f.Range.Start, f.Severity, f.RuleID, f.Message)
}

// SortFindings orders findings by file, position, then rule (stable). It sorts indices and
// moves each finding once: a large file has hundreds of findings, and a stable sort moving
// the findings themselves costs more than the rules that found them.
func SortFindings(fs []Finding) {
	idx := make([]int32, len(fs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(i, j int32) int {
		a, b := &fs[i], &fs[j]
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Range.Start != b.Range.Start {
			if a.Range.Start.Less(b.Range.Start) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	sorted := make([]Finding, len(fs))
	for i, j := range idx {
		sorted[i] = fs[j]
	}
	copy(fs, sorted)
}

// Pass is what a rule's Run sees: one file of a snapshot, and a way to report. What other
// groups know reaches a rule through the pass and its snapshot: the profile in force, the
// build target of a Dockerfile ([Snapshot.BuildTarget]), the workspace's files.
type Pass struct {
	Rule     *Rule
	Snapshot *Snapshot
	File     *File
	Config   *Config
	Profile  Profile
	ctx      context.Context
	findings []Finding
}

// Context is cancelled when the request the pass serves is: a long rule stops early.
func (p *Pass) Context() context.Context {
	if p.ctx == nil {
		return context.Background()
	}
	return p.ctx
}

// BuildTarget returns the build target of the Dockerfile at path ("" for its last stage).
func (p *Pass) BuildTarget(path string) string { return p.Snapshot.BuildTarget(path) }

// Collect runs fn with a pass like p that keeps what fn reports, and returns those findings
// instead of reporting them: a rule that judges several things (the targets a Dockerfile is
// built for) reports once what they share.
func (p *Pass) Collect(fn func(*Pass)) []Finding {
	sub := *p
	sub.findings = nil
	fn(&sub)
	return sub.findings
}

// Report records a finding of the pass's rule on the pass's file.
func (p *Pass) Report(f Finding) {
	f.RuleID = p.Rule.ID
	if f.File == "" {
		f.File = p.File.Path
	}
	p.findings = append(p.findings, f)
}

// Reportf records a finding with a formatted message at rng.
func (p *Pass) Reportf(rng text.Range, format string, args ...any) {
	p.Report(Finding{Range: rng, Message: fmt.Sprintf(format, args...)})
}
