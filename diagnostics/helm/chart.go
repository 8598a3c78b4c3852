// Package helm is the chart model of nonroot-ls and its rules NR401–NR404.
//
// A chart is read only through the [diagnostics.Snapshot], so the editor's unsaved text of
// values.yaml and of templates is what gets rendered, and vendored subcharts under charts/
// (a Bitnami chart's charts/common) take part. It is rendered with Helm's Go engine
// (helm.sh/helm/v4: its chart loader and template engine; see [SetRenderer] for where it runs),
// from the chart's default values plus
// the values files named in `helm.valuesFiles` of the configuration, with no cluster, no
// network, `lookup` returning nothing, and bounds on time and output size.
//
// Every rendered securityContext is traced to the values key that produced it: the chart is
// rendered a second time with a marker key added to every values mapping whose name ends in
// "securityContext"; a marker that comes out inside a rendered securityContext names the
// values key (and file) that controls it. Fields with no marker are traced to the template
// line that writes them.
package helm

import (
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/ignore"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// Limits on what is read of one chart.
const (
	maxChartFiles = 5000
	maxChartBytes = 64 << 20
)

// Chart is a chart directory as the snapshot sees it.
type Chart struct {
	Dir      string // absolute
	Name     string // from Chart.yaml
	Library  bool   // type: library (no workloads of its own)
	Subchart bool   // it lives under another chart's charts/ folder
	// ChartFile is Chart.yaml.
	ChartFile *diagnostics.File
	// Files are every file of the chart and its subcharts, by slash path relative to Dir.
	Files map[string]*diagnostics.File
	// Values is values.yaml (nil when absent); Extra are the configured extra values files;
	// SubValues are the values.yaml files of subcharts, with their prefix.
	Values    *Values
	Extra     []*Values
	SubValues []*Values
	// Problems are reasons the chart cannot be loaded, by file path.
	Problems map[string][]diagnostics.Problem

	state *state // the engine's helm state: the renderer and its cache
}

// AllValues returns the chart's own values, the extra values files and the subcharts' values.
func (c *Chart) AllValues() []*Values {
	var out []*Values
	if c.Values != nil {
		out = append(out, c.Values)
	}
	out = append(out, c.Extra...)
	return append(out, c.SubValues...)
}

// ValuesFor returns the values model of path (nil when it is not one of the chart's values files).
func (c *Chart) ValuesFor(path string) *Values {
	for _, v := range c.AllValues() {
		if v.File.Path == path {
			return v
		}
	}
	return nil
}

// Rel returns path relative to the chart, slash-separated.
func (c *Chart) Rel(path string) string {
	r, err := filepath.Rel(c.Dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// Abs returns the absolute path of a chart-relative slash path.
func (c *Chart) Abs(rel string) string { return filepath.Join(c.Dir, filepath.FromSlash(rel)) }

func (c *Chart) problem(path string, p diagnostics.Problem) {
	if c.Problems == nil {
		c.Problems = map[string][]diagnostics.Problem{}
	}
	c.Problems[path] = append(c.Problems[path], p)
}

type chartKey struct{ dir string }

// For returns the chart that holds path (nil when path is in no chart). The model is built
// once per snapshot.
func For(s *diagnostics.Snapshot, path string) *Chart {
	dir := s.ChartRoot(path)
	if dir == "" {
		return nil
	}
	return Load(s, dir)
}

// Root returns the outermost chart that holds path: for a file of a vendored subchart
// (charts/common/…) the chart that vendors it, since that is the chart that gets rendered.
func Root(s *diagnostics.Snapshot, path string) *Chart {
	c := For(s, path)
	for c != nil && c.Subchart {
		parent := For(s, filepath.Join(filepath.Dir(filepath.Dir(c.Dir)), "Chart.yaml"))
		if parent == nil || parent.Dir == c.Dir {
			break
		}
		c = parent
	}
	return c
}

// Load reads the chart in dir from the snapshot (memoised per snapshot).
func Load(s *diagnostics.Snapshot, dir string) *Chart {
	return s.Memo(chartKey{dir}, func() any { return load(s, dir) }).(*Chart)
}

func load(s *diagnostics.Snapshot, dir string) *Chart {
	c := &Chart{Dir: dir, Files: map[string]*diagnostics.File{}}
	c.state, _ = s.State(groupName).(*state)
	parentDir := filepath.Dir(dir)
	if filepath.Base(parentDir) == "charts" && s.ChartRoot(parentDir) != "" {
		c.Subchart = true
	}
	cf, err := s.File(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return c
	}
	c.ChartFile = cf
	var meta struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	}
	if err := yaml.Unmarshal([]byte(cf.Text), &meta); err != nil {
		c.problem(cf.Path, diagnostics.Problem{Range: cf.Lines().LineRange(diagnostics.ErrorLine(err.Error())), Message: "invalid Chart.yaml: " + strings.TrimPrefix(err.Error(), "yaml: ")})
	} else if meta.Name == "" {
		c.problem(cf.Path, diagnostics.Problem{Range: cf.Lines().LineRange(0), Message: "invalid Chart.yaml: `name` is required; Helm refuses to load the chart"})
	}
	c.Name, c.Library = meta.Name, meta.Type == "library"

	c.readFiles(s)

	if f := c.Files["values.yaml"]; f != nil {
		c.Values = ParseValues(f)
		if c.Values.Err != nil {
			c.problem(f.Path, *c.Values.Err)
		}
	}
	for _, name := range valuesFiles(s.ConfigFor(cf.Path)) {
		rel := filepath.ToSlash(filepath.Clean(name))
		if strings.HasPrefix(rel, "../") || filepath.IsAbs(name) {
			continue
		}
		if f := c.Files[rel]; f != nil {
			v := ParseValues(f)
			if v.Err != nil {
				c.problem(f.Path, *v.Err)
			}
			c.Extra = append(c.Extra, v)
		}
	}
	// Subcharts' default values, seen by the root chart under the subchart's name.
	var subs []string
	for rel := range c.Files {
		if strings.HasPrefix(rel, "charts/") && strings.HasSuffix(rel, "/values.yaml") {
			subs = append(subs, rel)
		}
	}
	sort.Strings(subs)
	for _, rel := range subs {
		prefix, ok := subchartPrefix(c, strings.TrimSuffix(rel, "/values.yaml"))
		if !ok {
			continue
		}
		v := ParseValues(c.Files[rel])
		v.Prefix = prefix
		c.SubValues = append(c.SubValues, v)
	}
	return c
}

// subchartPrefix turns charts/a/charts/b into the values path a.b, using each subchart's name
// from its Chart.yaml.
func subchartPrefix(c *Chart, relDir string) (string, bool) {
	parts := strings.Split(relDir, "/")
	var names []string
	for i := 0; i+1 < len(parts); i += 2 {
		if parts[i] != "charts" {
			return "", false
		}
		dir := strings.Join(parts[:i+2], "/")
		cf := c.Files[dir+"/Chart.yaml"]
		if cf == nil {
			return "", false
		}
		var meta struct {
			Name string `yaml:"name"`
		}
		if yaml.Unmarshal([]byte(cf.Text), &meta) != nil || meta.Name == "" {
			return "", false
		}
		names = append(names, meta.Name)
	}
	if len(parts)%2 != 0 {
		return "", false
	}
	return strings.Join(names, "."), true
}

// readFiles reads every file of the chart through the snapshot: the disk listing under Dir
// (minus .helmignore'd files) and the open documents under Dir that are not on disk yet.
func (c *Chart) readFiles(s *diagnostics.Snapshot) {
	rules := ignore.Empty()
	if f, err := s.File(filepath.Join(c.Dir, ".helmignore")); err == nil {
		if r, err := ignore.Parse(strings.NewReader(f.Text)); err == nil {
			rules = r
		}
	}
	rules.AddDefaults()
	total := 0
	add := func(path string) {
		rel := c.Rel(path)
		if _, ok := c.Files[rel]; ok || len(c.Files) >= maxChartFiles {
			return
		}
		f, err := s.File(path)
		if err != nil || total+len(f.Text) > maxChartBytes {
			return
		}
		total += len(f.Text)
		c.Files[rel] = f
	}
	filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p == c.Dir {
			return nil
		}
		rel := c.Rel(p)
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".hg", ".svn", "node_modules", ".rendered":
				return filepath.SkipDir
			}
		}
		if fi, err := d.Info(); err == nil && rules.Ignore(rel, fi) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if len(c.Files) >= maxChartFiles {
			return filepath.SkipAll
		}
		add(p)
		return nil
	})
	for _, p := range s.Walk() {
		if strings.HasPrefix(p, c.Dir+string(filepath.Separator)) && !strings.Contains(c.Rel(p), ".rendered/") {
			add(p)
		}
	}
}

// valuesFiles returns the extra values files the configuration names.
func valuesFiles(cfg diagnostics.Config) []string {
	if cfg.Helm == nil {
		return nil
	}
	return cfg.Helm.ValuesFiles
}
