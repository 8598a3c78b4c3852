package helm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
)

// Render bounds. A render that exceeds them yields a [RenderError] instead of manifests.
var (
	// RenderTimeout bounds one render of a chart. Go templates cannot be interrupted, so a
	// render that runs over is abandoned (its result is discarded) and the chart reported.
	RenderTimeout = 3 * time.Second
	// MaxRenderedBytes bounds the total size of a chart's rendered manifests.
	MaxRenderedBytes = 16 << 20
	// maxRangeLen bounds the lists that until/untilStep/seq may build.
	maxRangeLen = 100000
)

// Release is the release the chart is rendered as (what `helm template` uses by default).
var Release = common.ReleaseOptions{Name: "release-name", Namespace: "default", IsInstall: true, Revision: 1}

// MarkerKey is the key added to every security-context mapping of the values in the marked
// render; its value names the values file and key (see [Marker]).
const MarkerKey = "nonroot-ls.values-key"

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
	File    string // chart-relative path ("" when Helm names no file)
	Line    int    // 1-based; 0 when unknown
	Col     int    // 1-based; 0 when unknown
	Message string
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

var cache = struct {
	sync.Mutex
	m     map[[32]byte]*cacheEntry
	order [][32]byte
}{m: map[[32]byte]*cacheEntry{}}

type cacheEntry struct {
	once sync.Once
	r    *Rendered
}

const cacheSize = 32

// Render renders the chart. Results are cached by the chart's content, so a snapshot that
// changed another file does not render the chart again.
func (c *Chart) Render(opt RenderOptions) *Rendered {
	key := c.contentKey(opt)
	cache.Lock()
	e := cache.m[key]
	if e == nil {
		e = &cacheEntry{}
		cache.m[key] = e
		cache.order = append(cache.order, key)
		if len(cache.order) > cacheSize {
			delete(cache.m, cache.order[0])
			cache.order = cache.order[1:]
		}
	}
	cache.Unlock()
	e.once.Do(func() { e.r = c.render(opt) })
	return e.r
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

func (c *Chart) render(opt RenderOptions) *Rendered {
	start := time.Now()
	type result struct {
		m   map[string]string
		err error
	}
	ch := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), RenderTimeout)
	defer cancel()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- result{err: fmt.Errorf("helm failed: %v", v)}
			}
		}()
		m, err := c.renderHelm(ctx, opt)
		ch <- result{m, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		res.err = &RenderError{Message: fmt.Sprintf("rendering the chart took longer than %s and was stopped (a template loop or recursion?)", RenderTimeout)}
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

// renderHelm loads the chart with Helm's loader from the snapshot's files and renders it.
func (c *Chart) renderHelm(ctx context.Context, opt RenderOptions) (map[string]string, error) {
	var files []*archive.BufferedFile
	names := make([]string, 0, len(c.Files))
	for k := range c.Files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, &archive.BufferedFile{Name: n, Data: []byte(c.Files[n].Text)})
	}
	chrt, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	if err := chrt.Validate(); err != nil {
		return nil, &RenderError{File: "Chart.yaml", Message: "invalid Chart.yaml: " + err.Error()}
	}
	instrument(chrt)
	if opt.Marked {
		markChart(chrt, c, "")
	}
	// Extra values files, merged in order like repeated `helm template -f`.
	vals := map[string]any{}
	for _, v := range c.Extra {
		m, err := common.ReadValues([]byte(v.File.Text))
		if err != nil {
			return nil, &RenderError{File: c.Rel(v.File.Path), Message: "invalid values file: " + err.Error()}
		}
		if opt.Marked {
			markValues(m, strconv.Itoa(c.sourceIndex(v))+"#", nil)
		}
		vals = loader.MergeMaps(vals, m)
	}
	if err := chartutil.ProcessDependencies(chrt, vals); err != nil {
		return nil, err
	}
	caps := common.DefaultCapabilities.Copy()
	if opt.OpenShift {
		caps.APIVersions = append(append(common.VersionSet(nil), caps.APIVersions...), "security.openshift.io/v1", "route.openshift.io/v1", "apps.openshift.io/v1")
	}
	rv, err := util.ToRenderValuesWithSchemaValidation(chrt, vals, Release, caps, true)
	if err != nil {
		return nil, err
	}
	funcs := boundedFuncs()
	ticks := 0
	funcs[tickFunc] = func() (string, error) {
		if ticks++; ticks > maxTicks {
			return "", fmt.Errorf("nonroot-ls: the templates loop more than %d times; rendering stopped", maxTicks)
		}
		if ticks%1024 == 0 && ctx.Err() != nil {
			return "", fmt.Errorf("nonroot-ls: rendering took longer than %s and was stopped", RenderTimeout)
		}
		return "", nil
	}
	e := engine.Engine{CustomTemplateFuncs: funcs}
	return e.RenderWithContext(ctx, chrt, rv)
}

// boundedFuncs replaces the template functions that can allocate without limit.
func boundedFuncs() template.FuncMap {
	tooLong := func(n int) error {
		return fmt.Errorf("nonroot-ls: a list of %d elements is more than the %d it renders", n, maxRangeLen)
	}
	m := template.FuncMap{
		"until": func(n int) ([]int, error) {
			if n > maxRangeLen {
				return nil, tooLong(n)
			}
			out := make([]int, 0, max(n, 0))
			for i := 0; i < n; i++ {
				out = append(out, i)
			}
			return out, nil
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			if step == 0 {
				return []int{}, nil
			}
			if n := (stop - start) / step; n > maxRangeLen {
				return nil, tooLong(n)
			}
			var out []int
			if step > 0 {
				for i := start; i < stop; i += step {
					out = append(out, i)
				}
			} else {
				for i := start; i > stop; i += step {
					out = append(out, i)
				}
			}
			return out, nil
		},
		"repeat": func(count int, s string) (string, error) {
			if count < 0 || count*max(len(s), 1) > MaxRenderedBytes {
				return "", fmt.Errorf("nonroot-ls: repeat of %d would exceed the output limit", count)
			}
			return strings.Repeat(s, count), nil
		},
		"lookup": func(string, string, string, string) (map[string]any, error) { return map[string]any{}, nil },
	}
	// Key and certificate generation (genCA, genSignedCert…) costs an RSA key per call, ~100 ms
	// each, for output no rule reads: placeholders keep templates that use .Cert/.Key working.
	cert := func(...any) map[string]any {
		return map[string]any{"Cert": placeholderPEM("CERTIFICATE"), "Key": placeholderPEM("RSA PRIVATE KEY")}
	}
	for _, name := range []string{"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "buildCustomCert"} {
		m[name] = cert
	}
	m["genPrivateKey"] = func(...any) string { return placeholderPEM("PRIVATE KEY") }
	return m
}

func placeholderPEM(kind string) string {
	return "-----BEGIN " + kind + "-----\nbm9ucm9vdC1scyBwbGFjZWhvbGRlcg==\n-----END " + kind + "-----\n"
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

// markChart adds markers to the chart's default values and, recursively, its subcharts'.
func markChart(chrt *chart.Chart, c *Chart, prefix string) {
	src := -1
	if prefix == "" {
		if c.Values != nil {
			src = 0
		}
	} else {
		for i, v := range c.AllValues() {
			if v.Prefix == prefix {
				src = i
			}
		}
	}
	if src >= 0 && chrt.Values != nil {
		markValues(chrt.Values, strconv.Itoa(src)+"#", nil)
	}
	for _, dep := range chrt.Dependencies() {
		p := dep.Name()
		if prefix != "" {
			p = prefix + "." + p
		}
		markChart(dep, c, p)
	}
}

// markValues adds MarkerKey to every mapping under a key named *securityContext.
func markValues(m map[string]any, src string, path []string) {
	for k, v := range m {
		p := append(append([]string(nil), path...), k)
		if isSecurityContextKey(k) {
			switch sc := v.(type) {
			case map[string]any:
				sc[MarkerKey] = src + strings.Join(p, ".")
			case nil:
				m[k] = map[string]any{MarkerKey: src + strings.Join(p, ".")}
			}
		}
		if sub, ok := m[k].(map[string]any); ok {
			markValues(sub, src, p)
		}
	}
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

// tickFunc is called at the start of every range iteration and every defined template, so
// a render that loops too long stops itself (Go templates cannot be interrupted otherwise).
const tickFunc = "nonrootLsTick"

// maxTicks bounds the loop iterations and template calls of one render.
const maxTicks = 300_000

var loopActionRE = regexp.MustCompile(`\{\{-?\s*(?:range|define)\b(?:[^}"]|"(?:[^"\\]|\\.)*"|\}[^}])*?(-?)\}\}`)

// instrument inserts a tick call after every range and define action of the chart's
// templates, keeping the output byte for byte: `{{ range … -}}` gets `{{ tick -}}` so the
// whitespace it trimmed stays trimmed.
func instrument(chrt *chart.Chart) {
	for _, t := range chrt.Templates {
		if t == nil {
			continue
		}
		t.Data = loopActionRE.ReplaceAllFunc(t.Data, func(m []byte) []byte {
			trim := ""
			if sub := loopActionRE.FindSubmatch(m); len(sub) > 1 && len(sub[1]) > 0 {
				trim = " -"
			}
			return append(append([]byte(nil), m...), []byte("{{ "+tickFunc+trim+"}}")...)
		})
	}
	for _, d := range chrt.Dependencies() {
		instrument(d)
	}
}
