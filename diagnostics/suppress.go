package diagnostics

import (
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Suppressions, in files whose comments start with '#' (Dockerfiles and YAML):
//
//	# nonroot-ls ignore=NR101,NR104      the next instruction or key (the comment block directly above it)
//	# nonroot-ls global ignore=NR108     the whole file
//	# hadolint ignore=DL3002             hadolint's codes, mapped through Rule.Hadolint
//	# hadolint global ignore=DL3002
//
// A YAML finding is also silenced by a trailing comment on its own line.

type suppressions struct {
	global map[string]bool
	lines  map[int]map[string]bool // line of the comment → rule IDs
}

func (s *suppressions) suppressed(f Finding, lines *text.Lines, allowTrailing bool) bool {
	if s.global[f.RuleID] {
		return true
	}
	if len(s.lines) == 0 {
		return false
	}
	line := f.Range.Start.Line
	if allowTrailing && s.lines[line][f.RuleID] {
		return true
	}
	// Walk back over continuation lines to the start of the instruction.
	for line > 0 && strings.HasSuffix(strings.TrimRight(lines.Line(line-1), " \t"), `\`) && !isComment(lines.Line(line-1)) {
		line--
	}
	for l := line - 1; l >= 0 && isComment(lines.Line(l)); l-- {
		if s.lines[l][f.RuleID] {
			return true
		}
	}
	return false
}

func isComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#")
}

// parseSuppressions reads the suppression comments of a '#'-commented file.
func parseSuppressions(lines *text.Lines, hadolint func(code string) []string) *suppressions {
	s := &suppressions{}
	for n := 0; n < lines.Count(); n++ {
		line := lines.Line(n)
		i := strings.Index(line, "#")
		if i < 0 {
			continue
		}
		comment := strings.TrimSpace(line[i+1:])
		tool, rest, ok := strings.Cut(comment, " ")
		if !ok || (tool != "nonroot-ls" && tool != "hadolint") {
			continue
		}
		rest = strings.TrimSpace(rest)
		global := false
		if after, ok := strings.CutPrefix(rest, "global "); ok {
			global, rest = true, strings.TrimSpace(after)
		}
		list, ok := strings.CutPrefix(rest, "ignore=")
		if !ok {
			continue
		}
		if j := strings.IndexAny(list, " \t"); j >= 0 {
			list = list[:j]
		}
		for _, code := range strings.Split(list, ",") {
			code = strings.TrimSpace(code)
			var ids []string
			if tool == "hadolint" {
				ids = hadolint(code)
			} else if code != "" {
				ids = []string{strings.ToUpper(code)}
			}
			for _, id := range ids {
				if global {
					if s.global == nil {
						s.global = map[string]bool{}
					}
					s.global[id] = true
					continue
				}
				if s.lines == nil {
					s.lines = map[int]map[string]bool{}
				}
				if s.lines[n] == nil {
					s.lines[n] = map[string]bool{}
				}
				s.lines[n][id] = true
			}
		}
	}
	return s
}
