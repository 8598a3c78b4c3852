package helm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Render bounds. A render that exceeds them yields a [RenderError] instead of manifests.
var (
	// RenderTimeout bounds one render of a chart. A renderer stops a render that runs over
	// (the helper process is killed) and the chart is reported.
	RenderTimeout = 3 * time.Second
	// MaxRenderedBytes bounds the total size of a chart's rendered manifests.
	MaxRenderedBytes = 16 << 20
)

// MarkerKey is the key added to every security-context mapping of the values in the marked
// render; its value names the values file and key (see [Marker]).
const MarkerKey = "nonroot-ls.values-key"

// RenderRequest is one render of a chart as plain data, so that it can cross the boundary
// to the process that runs Helm's engine (see [SetRenderer]).
type RenderRequest struct {
	// Files are the chart's and its subcharts' files by slash path relative to the chart.
	Files map[string]string `json:"files"`
	// Values are the extra values files, merged in order like repeated `helm template -f`.
	Values []ValuesFile `json:"values,omitempty"`
	// OpenShift adds the OpenShift API groups to the capabilities.
	OpenShift bool `json:"openshift,omitempty"`
	// Marks, when not nil, asks for the marked render: the values of the chart (prefix "")
	// and of each subchart (its values prefix, a.b) get [MarkerKey] markers naming the
	// source index given here.
	Marks map[string]int `json:"marks,omitempty"`
	// Timeout bounds the render (RenderTimeout when zero).
	Timeout time.Duration `json:"timeout,omitempty"`
}

// ValuesFile is an extra values file of a [RenderRequest].
type ValuesFile struct {
	Name   string `json:"name"` // chart-relative, for messages
	Text   string `json:"text"`
	Source int    `json:"source"` // index into Chart.AllValues, for markers
}

// RenderResponse is a renderer's answer on the wire: the rendered templates by Helm's
// template name (chart/templates/x.yaml), or why the chart did not render.
type RenderResponse struct {
	Manifests map[string]string `json:"manifests,omitempty"`
	Err       *RenderError      `json:"error,omitempty"`
}

// NewRenderResponse packs a renderer's result for the wire.
func NewRenderResponse(m map[string]string, err error) *RenderResponse {
	if err == nil {
		return &RenderResponse{Manifests: m}
	}
	var re *RenderError
	if !errors.As(err, &re) {
		re = &RenderError{Message: err.Error()}
	}
	return &RenderResponse{Err: re}
}

// Result unpacks a response into what a [RenderFunc] returns.
func (r *RenderResponse) Result() (map[string]string, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Manifests, nil
}

// RenderFunc renders a chart with Helm's engine. It returns the rendered templates by Helm's
// template name, or an error: a [RenderError] when it already knows the file at fault,
// otherwise Helm's own error, whose template locations [Chart.Render] maps back to files.
type RenderFunc func(ctx context.Context, req *RenderRequest) (map[string]string, error)

// Rendered is the output of one render of a chart.
type Rendered struct {
	// Manifests maps the chart-relative path of each template (templates/deployment.yaml,
	// charts/sub/templates/x.yaml) to its rendered text; templates that render nothing are left out.
	Manifests map[string]string
	Err       *RenderError
	Elapsed   time.Duration
}

// Templates returns the rendered templates' paths, sorted.
func (r *Rendered) Templates() []string {
	out := make([]string, 0, len(r.Manifests))
	for k := range r.Manifests {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RenderError is why a chart did not render, at the template location Helm names.
type RenderError struct {
	File    string `json:"file,omitempty"` // chart-relative path ("" when Helm names no file)
	Line    int    `json:"line,omitempty"` // 1-based; 0 when unknown
	Col     int    `json:"col,omitempty"`  // 1-based; 0 when unknown
	Message string `json:"message"`
}

func (e *RenderError) Error() string {
	if e.File == "" {
		return e.Message
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
}

// RenderOptions select a render.
type RenderOptions struct {
	// OpenShift adds security.openshift.io/v1 to the API versions (Bitnami charts switch to
	// their OpenShift variant on it).
	OpenShift bool
	// Marked adds the values-key markers to every security-context mapping.
	Marked bool
}

// renderCacheSize bounds the renders an engine keeps.
const renderCacheSize = 32

// Render renders the chart, or returns nil when ctx is cancelled first. Results are cached by
// the chart's content in the engine's helm state, so a snapshot that changed another file
// does not render the chart again.
func (c *Chart) Render(ctx context.Context, opt RenderOptions) *Rendered {
	if c.state == nil {
		return c.render(ctx, opt, nil)
	}
	v, ok := c.state.renders.Get(ctx, c.contentKey(opt), func(ctx context.Context) (any, bool) {
		r := c.render(ctx, opt, c.state.render)
		return r, r != nil
	})
	if !ok {
		return nil
	}
	return v.(*Rendered)
}

func (c *Chart) contentKey(opt RenderOptions) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%v\x00%v\x00", c.Dir, opt.OpenShift, opt.Marked)
	names := make([]string, 0, len(c.Files))
	for k := range c.Files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", n, len(c.Files[n].Text), c.Files[n].Text)
	}
	for _, v := range c.Extra {
		fmt.Fprintf(h, "extra\x00%s\x00", c.Rel(v.File.Path))
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// render renders the chart with fn; nil when ctx is cancelled first (the renderer is told to
// stop: the helper process drops the render).
func (c *Chart) render(parent context.Context, opt RenderOptions, fn RenderFunc) *Rendered {
	start := time.Now()
	type result struct {
		m   map[string]string
		err error
	}
	ch := make(chan result, 1)
	ctx, cancel := context.WithTimeout(parent, RenderTimeout)
	defer cancel()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				if c.state != nil {
					c.state.eng.Logf("panic rendering the chart %s: %v\n%s", c.Dir, v, debug.Stack())
				}
				ch <- result{err: fmt.Errorf("helm failed: %v", v)}
			}
		}()
		if fn == nil {
			ch <- result{err: &RenderError{Message: "the chart is not rendered: this program has no Helm renderer installed"}}
			return
		}
		m, err := fn(ctx, c.request(opt))
		ch <- result{m, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		if parent.Err() != nil {
			return nil
		}
		res.err = &RenderError{Message: fmt.Sprintf("rendering the chart took longer than %s and was stopped (a template loop or recursion?)", RenderTimeout)}
	}
	if parent.Err() != nil {
		return nil // cancelled: not a result of the chart
	}
	r := &Rendered{Manifests: map[string]string{}, Elapsed: time.Since(start)}
	if res.err != nil {
		r.Err = c.renderError(res.err)
		return r
	}
	total := 0
	for name, out := range res.m {
		total += len(out)
		if total > MaxRenderedBytes {
			r.Err = &RenderError{Message: fmt.Sprintf("the rendered manifests exceed %d MiB; not analysed", MaxRenderedBytes>>20)}
			r.Manifests = map[string]string{}
			return r
		}
		rel, ok := c.templateRel(name)
		if !ok || !isManifestName(rel) || strings.TrimSpace(stripComments(out)) == "" {
			continue
		}
		r.Manifests[rel] = out
	}
	return r
}

func isManifestName(rel string) bool {
	switch strings.ToLower(path.Ext(rel)) {
	case ".yaml", ".yml", ".json", ".tpl":
		return !strings.HasPrefix(path.Base(rel), "_")
	}
	return false
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		t := strings.TrimSpace(line)
		if t == "" || t == "---" || strings.HasPrefix(t, "#") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// request is the render of c with opt as plain data.
func (c *Chart) request(opt RenderOptions) *RenderRequest {
	req := &RenderRequest{Files: make(map[string]string, len(c.Files)), OpenShift: opt.OpenShift, Timeout: RenderTimeout}
	for rel, f := range c.Files {
		req.Files[rel] = f.Text
	}
	for _, v := range c.Extra {
		req.Values = append(req.Values, ValuesFile{Name: c.Rel(v.File.Path), Text: v.File.Text, Source: c.sourceIndex(v)})
	}
	if opt.Marked {
		req.Marks = map[string]int{}
		if c.Values != nil {
			req.Marks[""] = 0
		}
		for i, v := range c.AllValues() {
			if v.Prefix != "" {
				req.Marks[v.Prefix] = i
			}
		}
	}
	return req
}

// Marker says which values file and key a marked security context came from.
type Marker struct {
	Source int    // index into Chart.AllValues()
	Path   string // dotted path inside that file
}

// sourceIndex is v's index in AllValues.
func (c *Chart) sourceIndex(v *Values) int {
	for i, w := range c.AllValues() {
		if w == v {
			return i
		}
	}
	return -1
}

// ParseMarker parses a marker value.
func ParseMarker(s string) (Marker, bool) {
	src, p, ok := strings.Cut(s, "#")
	if !ok {
		return Marker{}, false
	}
	n, err := strconv.Atoi(src)
	if err != nil {
		return Marker{}, false
	}
	return Marker{Source: n, Path: p}, true
}

// templateRel turns Helm's template name (mychart/charts/common/templates/x.tpl) into a
// chart-relative path, mapping subchart names back to their folders.
func (c *Chart) templateRel(name string) (string, bool) {
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return "", false
	}
	parts = parts[1:]
	dir := ""
	for len(parts) >= 2 && parts[0] == "charts" {
		sub := parts[1]
		folder := c.subchartDir(dir, sub)
		dir = path.Join(dir, "charts", folder)
		parts = parts[2:]
	}
	return path.Join(dir, strings.Join(parts, "/")), true
}

// subchartDir finds the folder under <dir>/charts whose Chart.yaml names the chart name.
func (c *Chart) subchartDir(dir, name string) string {
	if _, ok := c.Files[path.Join(dir, "charts", name, "Chart.yaml")]; ok {
		return name
	}
	prefix := path.Join(dir, "charts") + "/"
	for rel, f := range c.Files {
		rest, ok := strings.CutPrefix(rel, prefix)
		if !ok || strings.Count(rest, "/") != 1 || !strings.HasSuffix(rest, "/Chart.yaml") {
			continue
		}
		if strings.Contains(f.Text, "name: "+name) {
			return strings.TrimSuffix(rest, "/Chart.yaml")
		}
	}
	return name
}

var locRE = regexp.MustCompile(`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+):(\d+)(?::(\d+))?`)

// renderError turns Helm's error into a located RenderError: the innermost template location
// Helm names.
func (c *Chart) renderError(err error) *RenderError {
	var re *RenderError
	if errors.As(err, &re) {
		return re
	}
	msg := err.Error()
	out := &RenderError{Message: cleanHelmMessage(msg)}
	for _, m := range locRE.FindAllStringSubmatch(msg, -1) {
		rel, ok := c.templateRel(m[1])
		if !ok {
			continue
		}
		if _, known := c.Files[rel]; !known {
			continue
		}
		out.File = rel
		out.Line, _ = strconv.Atoi(m[2])
		out.Col, _ = strconv.Atoi(m[3])
	}
	return out
}

var helmLocPrefixRE = regexp.MustCompile(`(?:template: |execution error at \(|parse error at \()?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+:\d+(?::\d+)?\)?:\s*`)

// cleanHelmMessage drops the location prefixes from Helm's message (the diagnostic's range
// says where) and keeps what went wrong.
func cleanHelmMessage(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.LastIndex(msg, "\n"); i >= 0 && strings.TrimSpace(msg[i:]) != "" {
		// Helm joins a trace of locations line by line; the last says what failed.
		msg = strings.TrimSpace(msg[i:])
	}
	if i := strings.Index(msg, "nonroot-ls: "); i >= 0 {
		return msg[i+len("nonroot-ls: "):]
	}
	msg = helmLocPrefixRE.ReplaceAllString(msg, "")
	msg = strings.TrimPrefix(msg, "executing ")
	return msg
}
