package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Problem is a reason a file cannot be (fully) analysed, reported as NR001.
type Problem struct {
	Range   text.Range
	Message string
	// Severity, when set, replaces NR001's: what is left out of an analysis on purpose (a
	// remote kustomize base that is not fetched) is information, not an error.
	Severity Severity
}

// NR001 is the engine's own rule: the file cannot be analysed (syntax error, binary, too large).
var NR001 = &Rule{
	ID:       "NR001",
	Title:    "File cannot be analysed",
	Severity: SeverityError,
	Kinds:    []FileKind{KindDockerfile, KindManifest, KindCompose, KindHelmChart, KindHelmValues, KindHelmTemplate, KindKustomize, KindSkaffold, KindBake, KindConfig, KindWorkflow, KindGitLabCI, KindTiltfile},
	Doc: Doc{
		Why:     "nonroot-ls could not build a model of this file, so no other rule can judge it.",
		Runtime: "The same input usually fails the build or the apply too: BuildKit, kubectl and Helm reject what they cannot parse.",
		Fix:     "Correct the syntax error the message names. Binary files and files over 16 MiB are not analysed.",
		Source:  "A bad file gets a clear diagnostic, never a crash.",
		Bad:     "FROM alpine\nUSER\n",
		Good:    "FROM alpine\nUSER 10001:0\n",
	},
	Run: func(pass *Pass) {
		f := pass.File
		if f.Binary() {
			pass.Reportf(text.Range{}, "binary file: not analysed")
			return
		}
		if f.Kind == KindConfig {
			if pc := f.Memo(configKey{}, func() any { return parseConfigFile(f) }).(*parsedConfig); pc.err != nil {
				pass.Reportf(f.Lines().LineRange(ErrorLine(pc.err.Error())), "invalid %s: %v", ConfigFileName, pc.err)
			}
			return
		}
		for _, fn := range pass.Snapshot.eng.parse[f.Kind] {
			for _, p := range fn(pass.Context(), pass.Snapshot, f) {
				pass.Report(Finding{Range: p.Range, Message: p.Message, Severity: p.Severity})
			}
		}
	},
}

// ErrorLine extracts the 0-based line from a "line N" in a parser's error message (0 when none).
func ErrorLine(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range msg[i+5:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	if n > 0 {
		return n - 1
	}
	return 0
}

// Diagnose runs the rules that apply to path's kind and profile and returns their findings,
// with severities from the configuration, suppressions applied, sorted. A rule that panics
// yields an NR001 finding naming the rule instead of taking the caller down (and the panic
// is logged with its stack). When ctx is cancelled, Diagnose stops between rules and returns
// nil; callers that must tell that from "no findings" check ctx.Err().
//
// The result is memoised on the snapshot (it is immutable), so the language server's
// hover and code actions reuse what publishing computed; each call returns its own slice.
func (s *Snapshot) Diagnose(ctx context.Context, path string) []Finding {
	v, ok := s.MemoCtx(ctx, diagnoseKey{Clean(path)}, func(ctx context.Context) (any, bool) {
		return s.diagnose(ctx, path)
	})
	if !ok {
		return nil
	}
	return slices.Clone(v.([]Finding))
}

type diagnoseKey struct{ path string }

// diagnose is Diagnose; it reports false when ctx stopped it before the last rule.
func (s *Snapshot) diagnose(ctx context.Context, path string) ([]Finding, bool) {
	f, err := s.File(path)
	var ue *UnreadableError
	if errors.As(err, &ue) && ue.Kind != KindUnknown && !s.Ignored(ue.Path) {
		// Too large or unreadable: NR001 with the reason is all there is to say.
		cfg := s.ConfigFor(ue.Path)
		if sev := cfg.SeverityOf(NR001, s.ProfileFor(ue.Path)); sev != SeverityOff {
			return []Finding{{RuleID: NR001.ID, Severity: sev, File: ue.Path, Message: ue.Reason}}, true
		}
	}
	if err != nil || s.Ignored(f.Path) || f.Kind == KindUnknown && len(s.eng.carried) == 0 {
		return []Finding(nil), true
	}
	cfg := s.ConfigFor(f.Path)
	profile := s.ProfileFor(f.Path)
	var out []Finding
	binary := f.Binary()
	// A manifest that a build (kustomize) holds is judged as built: its findings are carried.
	built := f.Kind == KindManifest && len(s.BuiltBy(f.Path)) > 0
	for _, r := range s.eng.rules {
		if !r.RunsOn(f.Kind) || !r.RunsIn(profile) {
			continue
		}
		if binary && r != NR001 || built && r != NR001 {
			continue
		}
		sev := cfg.SeverityOf(r, profile)
		if sev == SeverityOff {
			continue
		}
		if ctx.Err() != nil {
			return nil, false
		}
		pass := &Pass{Rule: r, Snapshot: s, File: f, Config: &cfg, Profile: profile, ctx: ctx}
		s.runRule(pass)
		for i := range pass.findings {
			if pass.findings[i].Severity == SeverityOff {
				pass.findings[i].Severity = sev
			}
		}
		out = append(out, pass.findings...)
	}
	if !binary {
		out = append(out, s.carriedFindings(ctx, f, &cfg, profile)...)
	}
	if ctx.Err() != nil {
		return nil, false
	}
	// Every suppression comment has "ignore=": a file without it has none to read.
	if len(out) > 0 && (f.Kind == KindDockerfile || isYAMLKind(f.Kind) || f.Kind == KindUnknown) && strings.Contains(f.Text, "ignore=") {
		sup := f.Memo(suppressKey{}, func() any { return parseSuppressions(f.Lines(), s.eng.rulesForHadolint) }).(*suppressions)
		kept := out[:0]
		for _, fd := range out {
			if fd.RuleID == NR001.ID || fd.File != f.Path || !sup.suppressed(fd, f.Lines(), f.Kind != KindDockerfile) {
				kept = append(kept, fd)
			}
		}
		out = kept
	}
	SortFindings(out)
	return out, true
}

type suppressKey struct{}

// carriedFindings are the findings the groups trace to f for other rules, with the severity
// the configuration gives those rules; a rule that is off or not in the profile drops them.
func (s *Snapshot) carriedFindings(ctx context.Context, f *File, cfg *Config, profile Profile) (out []Finding) {
	defer func() {
		if v := recover(); v != nil {
			msg := s.eng.recovered("carried findings of "+f.Path, v)
			out = []Finding{{RuleID: NR001.ID, Severity: SeverityError, File: f.Path, Message: "internal error: " + msg + " (please report this with the file)"}}
		}
	}()
	for _, fn := range s.eng.carried {
		for _, fd := range fn(ctx, s, f) {
			r := s.eng.byID[fd.RuleID]
			if r == nil || !r.RunsIn(profile) {
				continue
			}
			sev := cfg.SeverityOf(r, profile)
			if sev == SeverityOff {
				continue
			}
			fd.Severity, fd.File = sev, f.Path
			out = append(out, fd)
		}
	}
	return out
}

func isYAMLKind(k FileKind) bool {
	switch k {
	case KindManifest, KindCompose, KindHelmChart, KindHelmValues, KindHelmTemplate, KindKustomize, KindSkaffold, KindConfig, KindWorkflow, KindGitLabCI:
		return true
	}
	return false
}

// runRule runs one rule's pass. A panic becomes one NR001 finding on the file that names
// the rule, and is logged with its stack.
func (s *Snapshot) runRule(pass *Pass) {
	defer func() {
		if v := recover(); v != nil {
			msg := s.eng.recovered(fmt.Sprintf("rule %s on %s", pass.Rule.ID, pass.File.Path), v)
			pass.findings = []Finding{{
				RuleID:   NR001.ID,
				Severity: SeverityError,
				File:     pass.File.Path,
				Message:  fmt.Sprintf("internal error in rule %s: %s (please report this with the file)", pass.Rule.ID, msg),
			}}
		}
	}()
	pass.Rule.Run(pass)
}
