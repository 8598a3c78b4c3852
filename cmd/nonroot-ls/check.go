package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

func check(eng *diagnostics.Engine, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	format := fs.String("format", "text", "output format: text, json or sarif")
	failOn := fs.String("fail-on", "warning", "exit 1 when a finding is at least this severe: error, warning, info, hint or off")
	profile := fs.String("profile", "", "rule profile: kubernetes, openshift or docker (overrides .nonroot-ls.yaml)")
	paths, err := parse(fs, args)
	if err != nil {
		return 2
	}
	threshold, err := diagnostics.ParseSeverity(*failOn)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-ls check: --fail-on: %v\n", err)
		return 2
	}
	var override diagnostics.Config
	if *profile != "" {
		if _, err := diagnostics.ParseProfile(*profile); err != nil {
			fmt.Fprintf(stderr, "nonroot-ls check: --profile: %v\n", err)
			return 2
		}
		override.Profile = *profile
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "nonroot-ls check: --format: unknown format %q (want text, json or sarif)\n", *format)
		return 2
	}
	w, err := load(eng, paths, override)
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-ls check: %v\n", err)
		return 2
	}
	findings := w.findings()
	switch *format {
	case "text":
		err = writeText(stdout, w, findings)
	case "json":
		err = writeJSON(stdout, w, findings)
	case "sarif":
		err = writeSARIF(stdout, w, findings)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-ls check: %v\n", err)
		return 2
	}
	if notes := w.unanalysed(); len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintf(stderr, "nonroot-ls check: %s\n", n)
		}
		return 2
	}
	for _, f := range findings {
		if f.Severity.AtLeast(threshold) {
			return 1
		}
	}
	return 0
}

// column returns p's 1-based column counted in characters (code points) of path's text.
func (w *workspace) column(path string, p text.Pos) int {
	if f, err := w.snap.File(path); err == nil {
		return f.Lines().ToRunes(p) + 1
	}
	return p.Col + 1
}

// column16 returns p's 1-based column in UTF-16 code units (SARIF's default columnKind).
func (w *workspace) column16(path string, p text.Pos) int {
	if f, err := w.snap.File(path); err == nil {
		return f.Lines().ToUTF16(p) + 1
	}
	return p.Col + 1
}

func writeText(out io.Writer, w *workspace, findings []diagnostics.Finding) error {
	counts := map[diagnostics.Severity]int{}
	for _, f := range findings {
		counts[f.Severity]++
		fmt.Fprintf(out, "%s:%d:%d: %s %s: %s\n", w.rel(f.File), f.Range.Start.Line+1, w.column(f.File, f.Range.Start), f.Severity, f.RuleID, f.Message)
		for _, r := range f.Related {
			fmt.Fprintf(out, "    %s:%d:%d: %s\n", w.rel(r.File), r.Range.Start.Line+1, w.column(r.File, r.Range.Start), r.Message)
		}
	}
	if len(findings) == 0 {
		_, err := fmt.Fprintf(out, "no problems in %d file(s)\n", len(w.files))
		return err
	}
	_, err := fmt.Fprintf(out, "%d problem(s) in %d file(s): %d error(s), %d warning(s), %d info, %d hint(s)\n",
		len(findings), len(w.files), counts[diagnostics.SeverityError], counts[diagnostics.SeverityWarning], counts[diagnostics.SeverityInfo], counts[diagnostics.SeverityHint])
	return err
}

// jsonFinding is one finding in `check --format json` (lines and columns 1-based, columns
// in characters; end exclusive).
type jsonFinding struct {
	File      string        `json:"file"`
	Line      int           `json:"line"`
	Column    int           `json:"column"`
	EndLine   int           `json:"endLine"`
	EndColumn int           `json:"endColumn"`
	Rule      string        `json:"rule"`
	Severity  string        `json:"severity"`
	Message   string        `json:"message"`
	DocURL    string        `json:"docUrl,omitempty"`
	Related   []jsonRelated `json:"related,omitempty"`
}

type jsonRelated struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func writeJSON(out io.Writer, w *workspace, findings []diagnostics.Finding) error {
	list := make([]jsonFinding, 0, len(findings))
	for _, f := range findings {
		j := jsonFinding{
			File: w.rel(f.File), Line: f.Range.Start.Line + 1, Column: w.column(f.File, f.Range.Start),
			EndLine: f.Range.End.Line + 1, EndColumn: w.column(f.File, f.Range.End),
			Rule: f.RuleID, Severity: f.Severity.String(), Message: f.Message,
		}
		if r := w.snap.Engine().RuleByID(f.RuleID); r != nil {
			j.DocURL = r.DocURL()
		}
		for _, r := range f.Related {
			j.Related = append(j.Related, jsonRelated{File: w.rel(r.File), Line: r.Range.Start.Line + 1, Column: w.column(r.File, r.Range.Start), Message: r.Message})
		}
		list = append(list, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}
