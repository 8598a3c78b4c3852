package diagnostics

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"sigs.k8s.io/yaml"
)

// Config is the project configuration: `.nonroot-ls.yaml` at a workspace root, and the same
// keys as editor settings (section "nonroot"). Later layers override earlier ones field by
// field: defaults < editor settings < .nonroot-ls.yaml.
type Config struct {
	// Profile is kubernetes (default), openshift or docker.
	Profile string `json:"profile,omitempty" desc:"kubernetes (default), openshift or docker"`
	// Rules maps a rule ID to a severity: off, error, warning, info or hint.
	Rules map[string]string `json:"rules,omitempty" desc:"rule ID to severity (off, error, warning, info, hint)"`
	// DefaultUser is the identity quick-fixes write when nothing better is known (10001:0).
	DefaultUser *Identity `json:"defaultUser,omitempty" desc:"uid and gid quick-fixes use (default 10001:0)"`
	// Images links image references to the Dockerfiles that build them.
	Images []ImageLink `json:"images,omitempty" desc:"image reference to Dockerfile links"`
	// Helm holds chart settings.
	Helm *HelmConfig `json:"helm,omitempty" desc:"Helm chart settings"`
	// Kustomize holds kustomization settings.
	Kustomize *KustomizeConfig `json:"kustomize,omitempty" desc:"kustomize settings"`
	// Ignore lists glob patterns (relative to the workspace root, ** allowed) of files not checked.
	Ignore []string `json:"ignore,omitempty" desc:"globs of paths not checked"`
	// Diagnostics says which files' problems the language server publishes.
	Diagnostics *DiagnosticsConfig `json:"diagnostics,omitempty" desc:"which files' problems the language server publishes"`
}

// DiagnosticsConfig holds the language server's publishing settings (the CLI reports every
// file it is given whatever they say).
type DiagnosticsConfig struct {
	// Scope is "workspace" (the problems of every file the workspace scan reads, open or
	// not), "openFiles" (open documents, plus the files linked to a changed one), or unset:
	// workspace when the scan reads at most MaxWorkspaceFiles files, else openFiles.
	Scope string `json:"scope,omitempty" desc:"workspace or openFiles (default: workspace up to 1000 files)"`
}

// Diagnostic scopes (DiagnosticsConfig.Scope).
const (
	ScopeWorkspace = "workspace"
	ScopeOpenFiles = "openFiles"
)

// DiagnosticScopes lists the values DiagnosticsConfig.Scope accepts (besides "" for the default).
func DiagnosticScopes() []string { return []string{ScopeWorkspace, ScopeOpenFiles} }

// MaxWorkspaceFiles is the size up to which a workspace's problems are all published when
// the scope is unset.
const MaxWorkspaceFiles = 1000

// DiagnosticsScope returns the configured scope: ScopeWorkspace, ScopeOpenFiles or "" (unset).
func (c *Config) DiagnosticsScope() string {
	if c.Diagnostics == nil {
		return ""
	}
	return c.Diagnostics.Scope
}

// Identity is a uid and gid.
type Identity struct {
	UID *int `json:"uid,omitempty"`
	GID *int `json:"gid,omitempty"`
}

// ImageLink says which Dockerfile (and build target) builds an image.
type ImageLink struct {
	Image      string `json:"image"`
	Dockerfile string `json:"dockerfile"`
	Target     string `json:"target,omitempty"`
}

// HelmConfig holds chart settings.
type HelmConfig struct {
	// ValuesFiles are extra values files (relative to the chart) layered over values.yaml.
	ValuesFiles []string `json:"valuesFiles,omitempty"`
}

// KustomizeConfig holds kustomization settings.
type KustomizeConfig struct {
	// Roots are kustomization folders (relative to the workspace root) built and judged on
	// their own too, although another kustomization uses them (a base also applied directly).
	Roots []string `json:"roots,omitempty"`
}

// Default identity for quick-fixes.
const (
	DefaultUID = 10001
	DefaultGID = 0
)

// ParseConfig parses a configuration file strictly: unknown keys are errors, so a typo does
// not silently do nothing.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

var ruleIDPattern = regexp.MustCompile(`^NR\d{3}$`)

// Validate checks the values of c: their shape (an engine also checks that the rules it
// names exist: [Engine.ValidateConfig]).
func (c *Config) Validate() error {
	if _, err := ParseProfile(c.Profile); err != nil {
		return err
	}
	for id, sev := range c.Rules {
		if !ruleIDPattern.MatchString(id) {
			return fmt.Errorf("rules: %q is not a rule ID (NRnnn)", id)
		}
		if _, err := ParseSeverity(sev); err != nil {
			return fmt.Errorf("rules: %s: %v", id, err)
		}
	}
	if u := c.DefaultUser; u != nil {
		if u.UID != nil && (*u.UID <= 0 || *u.UID > 1<<31-1) {
			return fmt.Errorf("defaultUser.uid: %d is not a non-root uid", *u.UID)
		}
		if u.GID != nil && (*u.GID < 0 || *u.GID > 1<<31-1) {
			return fmt.Errorf("defaultUser.gid: %d is out of range", *u.GID)
		}
	}
	for i, l := range c.Images {
		if l.Image == "" || l.Dockerfile == "" {
			return fmt.Errorf("images[%d]: image and dockerfile are required", i)
		}
	}
	for _, g := range c.Ignore {
		if !doublestar.ValidatePattern(g) {
			return fmt.Errorf("ignore: bad pattern %q", g)
		}
	}
	if sc := c.DiagnosticsScope(); sc != "" && sc != ScopeWorkspace && sc != ScopeOpenFiles {
		return fmt.Errorf("diagnostics.scope: %q is not %s or %s", sc, ScopeWorkspace, ScopeOpenFiles)
	}
	return nil
}

// Merge returns c overridden by o, field by field (o may be nil).
func (c Config) Merge(o *Config) Config {
	if o == nil {
		return c
	}
	if o.Profile != "" {
		c.Profile = o.Profile
	}
	if len(o.Rules) > 0 {
		m := make(map[string]string, len(c.Rules)+len(o.Rules))
		for k, v := range c.Rules {
			m[k] = v
		}
		for k, v := range o.Rules {
			m[k] = v
		}
		c.Rules = m
	}
	if o.DefaultUser != nil {
		u := Identity{}
		if c.DefaultUser != nil {
			u = *c.DefaultUser
		}
		if o.DefaultUser.UID != nil {
			u.UID = o.DefaultUser.UID
		}
		if o.DefaultUser.GID != nil {
			u.GID = o.DefaultUser.GID
		}
		c.DefaultUser = &u
	}
	if len(o.Images) > 0 {
		c.Images = append(append([]ImageLink(nil), c.Images...), o.Images...)
	}
	if o.Helm != nil {
		c.Helm = o.Helm
	}
	if o.Kustomize != nil {
		c.Kustomize = o.Kustomize
	}
	if len(o.Ignore) > 0 {
		c.Ignore = append(append([]string(nil), c.Ignore...), o.Ignore...)
	}
	if o.DiagnosticsScope() != "" {
		c.Diagnostics = &DiagnosticsConfig{Scope: o.Diagnostics.Scope}
	}
	return c
}

// ProfileOrDefault returns the configured profile (kubernetes when unset or invalid).
func (c *Config) ProfileOrDefault() Profile {
	p, err := ParseProfile(c.Profile)
	if err != nil {
		return ProfileKubernetes
	}
	return p
}

// User returns the default identity for quick-fixes.
func (c *Config) User() (uid, gid int) {
	uid, gid = DefaultUID, DefaultGID
	if c.DefaultUser != nil {
		if c.DefaultUser.UID != nil {
			uid = *c.DefaultUser.UID
		}
		if c.DefaultUser.GID != nil {
			gid = *c.DefaultUser.GID
		}
	}
	return uid, gid
}

// SeverityOf returns rule r's severity under this configuration and profile p.
func (c *Config) SeverityOf(r *Rule, p Profile) Severity {
	if s, ok := c.Rules[r.ID]; ok {
		if sev, err := ParseSeverity(s); err == nil {
			return sev
		}
	}
	return r.SeverityFor(p)
}

// Ignored reports whether rel (a slash-separated path relative to the workspace root) matches
// an ignore pattern. A pattern matching a directory ignores everything below it.
func (c *Config) Ignored(rel string) bool {
	rel = filepath.ToSlash(rel)
	for _, g := range c.Ignore {
		g = strings.TrimPrefix(g, "./")
		if ok, _ := doublestar.Match(g, rel); ok {
			return true
		}
		if ok, _ := doublestar.Match(strings.TrimSuffix(g, "/")+"/**", rel); ok {
			return true
		}
	}
	return false
}
