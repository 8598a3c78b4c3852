package main

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// SARIF 2.1.0 as GitHub code scanning reads it: tool.driver with the rule catalog (helpUri
// to each rule's page), results with ruleId, ruleIndex, level, message and a location whose
// artifact URI is relative to the working directory (%SRCROOT%) and whose region has 1-based
// lines and UTF-16 columns (the default columnKind), end column exclusive.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	ColumnKind         string                      `json:"columnKind"`
	Results            []sarifResult               `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	HelpURI              string            `json:"helpUri"`
	Help                 sarifMarkdown     `json:"help"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMarkdown struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	ProblemSeverity  string   `json:"problem.severity"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

type sarifResult struct {
	RuleID           string          `json:"ruleId"`
	RuleIndex        int             `json:"ruleIndex"`
	Level            string          `json:"level"`
	Message          sarifText       `json:"message"`
	Locations        []sarifLocation `json:"locations"`
	RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
}

type sarifLocation struct {
	ID               *int          `json:"id,omitempty"`
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	Message          *sarifText    `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           sarifRegion      `json:"region"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

func sarifLevel(s diagnostics.Severity) string {
	switch s {
	case diagnostics.SeverityError:
		return "error"
	case diagnostics.SeverityWarning:
		return "warning"
	case diagnostics.SeverityOff:
		return "none"
	}
	return "note"
}

// securitySeverity is GitHub's numeric severity (it ranks alerts as critical/high/medium/low).
func securitySeverity(s diagnostics.Severity) string {
	switch s {
	case diagnostics.SeverityError:
		return "7.5"
	case diagnostics.SeverityWarning:
		return "5.0"
	}
	return "2.0"
}

func writeSARIF(out io.Writer, w *workspace, findings []diagnostics.Finding) error {
	rules := w.snap.Engine().Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "nonroot-ls", Version: versionString(), InformationURI: "https://github.com/nonroot-ls/nonroot-ls", Rules: []sarifRule{}}
	for i, r := range rules {
		index[r.ID] = i
		full := strings.TrimSpace(strings.Join(nonEmpty(r.Doc.Why, r.Doc.Runtime), " "))
		if full == "" {
			full = r.Title
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.ID, Name: ruleName(r), ShortDescription: sarifText{r.Title}, FullDescription: sarifText{full},
			HelpURI:              r.DocURL(),
			Help:                 sarifMarkdown{Text: strings.TrimSpace(r.Doc.Fix + " " + r.DocURL()), Markdown: rulePage(r)},
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(r.Severity)},
			Properties: sarifRuleProperty{Tags: []string{"security", "containers", "non-root"}, Precision: "high",
				ProblemSeverity: problemSeverity(r.Severity), SecuritySeverity: securitySeverity(r.Severity)},
		})
	}
	run := sarifRun{
		Tool:               sarifTool{Driver: driver},
		OriginalURIBaseIDs: map[string]sarifArtifactLoc{"%SRCROOT%": {URI: dirURI(w.cwd)}},
		ColumnKind:         "utf16CodeUnits",
		Results:            []sarifResult{},
	}
	for _, f := range findings {
		res := sarifResult{
			RuleID: f.RuleID, RuleIndex: index[f.RuleID], Level: sarifLevel(f.Severity),
			Message:   sarifText{f.Message},
			Locations: []sarifLocation{{PhysicalLocation: w.physical(f.File, f.Range)}},
		}
		if _, ok := index[f.RuleID]; !ok {
			res.RuleIndex = -1
		}
		for i, r := range f.Related {
			id := i + 1
			res.RelatedLocations = append(res.RelatedLocations, sarifLocation{ID: &id, PhysicalLocation: w.physical(r.File, r.Range), Message: &sarifText{r.Message}})
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func (w *workspace) physical(path string, r text.Range) sarifPhysical {
	reg := sarifRegion{
		StartLine: r.Start.Line + 1, StartColumn: w.column16(path, r.Start),
		EndLine: r.End.Line + 1, EndColumn: w.column16(path, r.End),
	}
	if reg.EndLine < reg.StartLine || (reg.EndLine == reg.StartLine && reg.EndColumn < reg.StartColumn) {
		reg.EndLine, reg.EndColumn = reg.StartLine, reg.StartColumn
	}
	loc := sarifArtifactLoc{URI: relURI(w.rel(path))}
	if !strings.HasPrefix(loc.URI, "../") && !filepath.IsAbs(w.rel(path)) {
		loc.URIBaseID = "%SRCROOT%"
	} else {
		loc.URI = dirURI(path)
		loc.URI = strings.TrimSuffix(loc.URI, "/")
	}
	return sarifPhysical{ArtifactLocation: loc, Region: reg}
}

// relURI escapes a relative slash path as a URI reference.
func relURI(rel string) string {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// dirURI is the file: URI of a directory, with a trailing slash.
func dirURI(dir string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

func problemSeverity(s diagnostics.Severity) string {
	switch s {
	case diagnostics.SeverityError:
		return "error"
	case diagnostics.SeverityWarning:
		return "warning"
	}
	return "recommendation"
}

// ruleName is a PascalCase name from the title ("Runs as root" → "RunsAsRoot").
func ruleName(r *diagnostics.Rule) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(r.Title, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
