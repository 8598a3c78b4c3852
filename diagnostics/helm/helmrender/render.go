// Package helmrender renders charts with Helm's Go engine (helm.sh/helm/v4: its chart loader
// and template engine) for the [helm] package: from the chart's files and extra values, with no
// cluster and no network (`lookup` returns nothing), placeholder certificates, and bounds on
// loops, list sizes and time.
//
// Helm's engine links the Kubernetes client types, which cost the language server about
// 30 MiB of memory and 30 ms of start-up; so the nonroot-ls binary does not link this
// package: cmd/nonroot-ls-helm does, and nonroot-ls talks to it over a pipe ([Answer]).
// [Render] is the renderer; tests give it to the engine to render in-process.
package helmrender

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/helm"
)

// maxRangeLen bounds the lists that until/untilStep/seq may build.
const maxRangeLen = 100000

// Release is the release the chart is rendered as (what `helm template` uses by default).
var Release = common.ReleaseOptions{Name: "release-name", Namespace: "default", IsInstall: true, Revision: 1}

// Render renders the chart of req with Helm's engine. It stops itself when ctx is done
// between loop iterations and template calls (Go templates cannot be interrupted otherwise).
func Render(ctx context.Context, req *helm.RenderRequest) (map[string]string, error) {
	names := make([]string, 0, len(req.Files))
	for k := range req.Files {
		names = append(names, k)
	}
	sort.Strings(names)
	files := make([]*archive.BufferedFile, 0, len(names))
	for _, n := range names {
		files = append(files, &archive.BufferedFile{Name: n, Data: []byte(req.Files[n])})
	}
	chrt, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	if err := chrt.Validate(); err != nil {
		return nil, &helm.RenderError{File: "Chart.yaml", Message: "invalid Chart.yaml: " + err.Error()}
	}
	instrument(chrt)
	if req.Marks != nil {
		markChart(chrt, req.Marks, "")
	}
	vals := map[string]any{}
	for _, v := range req.Values {
		m, err := common.ReadValues([]byte(v.Text))
		if err != nil {
			return nil, &helm.RenderError{File: v.Name, Message: "invalid values file: " + err.Error()}
		}
		if req.Marks != nil {
			markValues(m, strconv.Itoa(v.Source)+"#", nil)
		}
		vals = loader.MergeMaps(vals, m)
	}
	if err := chartutil.ProcessDependencies(chrt, vals); err != nil {
		return nil, err
	}
	caps := common.DefaultCapabilities.Copy()
	if req.OpenShift {
		caps.APIVersions = append(append(common.VersionSet(nil), caps.APIVersions...), "security.openshift.io/v1", "route.openshift.io/v1", "apps.openshift.io/v1")
	}
	rv, err := util.ToRenderValuesWithSchemaValidation(chrt, vals, Release, caps, true)
	if err != nil {
		return nil, err
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = helm.RenderTimeout
	}
	funcs := boundedFuncs()
	ticks := 0
	funcs[tickFunc] = func() (string, error) {
		if ticks++; ticks > maxTicks {
			return "", fmt.Errorf("nonroot-ls: the templates loop more than %d times; rendering stopped", maxTicks)
		}
		if ticks%1024 == 0 && ctx.Err() != nil {
			return "", fmt.Errorf("nonroot-ls: rendering took longer than %s and was stopped", timeout)
		}
		return "", nil
	}
	e := engine.Engine{CustomTemplateFuncs: funcs}
	return e.RenderWithContext(ctx, chrt, rv)
}

// Answer renders one request of the helper protocol (cmd/nonroot-ls-helm) within its
// timeout. A render that panics is answered with the panic as its error.
func Answer(req *helm.RenderRequest) *helm.RenderResponse {
	return helm.NewRenderResponse(serveOne(req))
}

func serveOne(req *helm.RenderRequest) (m map[string]string, err error) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "nonroot-ls-helm: panic rendering a chart: %v\n%s", v, debug.Stack())
			m, err = nil, fmt.Errorf("helm failed: %v", v)
		}
	}()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = helm.RenderTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Render(ctx, req)
}

// markChart adds markers to the chart's default values and, recursively, its subcharts',
// naming the source index marks gives for each values prefix.
func markChart(chrt *chart.Chart, marks map[string]int, prefix string) {
	if src, ok := marks[prefix]; ok && chrt.Values != nil {
		markValues(chrt.Values, strconv.Itoa(src)+"#", nil)
	}
	for _, dep := range chrt.Dependencies() {
		p := dep.Name()
		if prefix != "" {
			p = prefix + "." + p
		}
		markChart(dep, marks, p)
	}
}

// markValues adds MarkerKey to every mapping under a key named *securityContext.
func markValues(m map[string]any, src string, path []string) {
	for k, v := range m {
		p := append(append([]string(nil), path...), k)
		if helm.IsSecurityContextKey(k) {
			switch sc := v.(type) {
			case map[string]any:
				sc[helm.MarkerKey] = src + strings.Join(p, ".")
			case nil:
				m[k] = map[string]any{helm.MarkerKey: src + strings.Join(p, ".")}
			}
		}
		if sub, ok := m[k].(map[string]any); ok {
			markValues(sub, src, p)
		}
	}
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
			if count < 0 || count*max(len(s), 1) > helm.MaxRenderedBytes {
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
