package diagnostics

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Engine is the analysis engine: the rules, the groups that read files for them, and the
// caches they share. It is built once from an explicit rule list ([New]); every [Snapshot]
// belongs to one engine and nothing of it is global, so two engines (two sessions, two
// tests) never see each other's caches.
type Engine struct {
	rules []*Rule // sorted by ID
	byID  map[string]*Rule

	parse      map[FileKind][]ParseFunc
	hover      map[FileKind][]HoverFunc
	definition map[FileKind][]Navigator
	references map[FileKind][]Navigator
	inspect    map[FileKind]InspectFunc
	annotate   []func(*Snapshot, *File) (string, any)
	wsInspect  []func(*Snapshot) any
	index      []func(*Snapshot, *File)
	indexWS    []func(*Snapshot)
	dependents []func(*Snapshot, string) []string
	kept       map[any]bool // File.Memo keys that are summaries, kept for every file

	openShift    func(*File) bool
	buildTargets func(*Snapshot, string) []string
	builtBy      func(*Snapshot, string) []string
	carried      []func(context.Context, *Snapshot, *File) []Finding
	image        func(*Snapshot, string, string) *ImageInfo

	states map[string]any // each group's per-engine state, by group name
	models *modelCache
	log    func(string)
}

// ParseFunc reports why a file cannot be (fully) analysed: its model's parse errors (NR001).
type ParseFunc func(context.Context, *Snapshot, *File) []Problem

// HoverFunc answers a hover at pos in f, or returns nil.
type HoverFunc func(ctx context.Context, s *Snapshot, f *File, pos text.Pos) *Hover

// InspectFunc describes a file's model for `nonroot-ls inspect` (JSON-serialisable).
type InspectFunc func(context.Context, *Snapshot, *File) any

// Group is what a rule group adds to the engine besides its rules: how it reads its files and
// what it answers about them. Every field is optional. A group keeps no package-level state:
// what it caches lives in the state NewState makes for each engine ([Snapshot.State]).
type Group struct {
	Name string

	// Parse, per file kind, reports what NR001 says about a file of that kind.
	Parse map[FileKind]ParseFunc
	// Hover, Definition and References answer those requests on files of a kind.
	Hover      map[FileKind]HoverFunc
	Definition map[FileKind]Navigator
	References map[FileKind]Navigator
	// Inspect describes the model of a file of a kind (one group per kind).
	Inspect map[FileKind]InspectFunc
	// Annotate adds a key to every file's inspect output (key "" adds nothing).
	Annotate func(*Snapshot, *File) (key string, value any)
	// InspectWorkspace describes the workspace as a whole (the image → Dockerfile links).
	InspectWorkspace func(*Snapshot) any

	// Index builds a file's summaries for workspace-wide analyses (memoised on the file with
	// keys listed in Kept); IndexWorkspace then builds the analysis that reads them.
	Index          func(*Snapshot, *File)
	IndexWorkspace func(*Snapshot)
	// Kept are the File.Memo keys whose values are small summaries kept for every file,
	// instead of in the bounded model cache.
	Kept []any
	// Dependents names the other files whose findings depend on path.
	Dependents func(s *Snapshot, path string) []string

	// Facts one group provides to the others (at most one group provides each):
	// OpenShift says whether a manifest holds OpenShift objects (it selects the profile);
	// BuildTargets names the stages a Dockerfile's image is built from ("" for the last one):
	// one per build the workspace makes of it (compose `target: dev`, a CI build of the
	// default stage), the most trusted first; none when nothing names one.
	// BuiltBy names the build roots (kustomizations) whose output holds the manifest at path:
	// such a manifest is judged as built, not alone, so the manifest rules skip it (NR001 still
	// runs). Image says what is known of an image a file runs (see ImageInfo).
	OpenShift    func(*File) bool
	BuildTargets func(s *Snapshot, dockerfile string) []string
	BuiltBy      func(s *Snapshot, manifest string) []string
	Image        func(s *Snapshot, file, image string) *ImageInfo

	// Carried are the findings of other rules that the group traces to f (a kustomize build's
	// NR202 on the patch line that sets runAsUser: 0). Their RuleID names the rule, whose
	// severity, profiles and suppressions apply as to its own findings; a payload that is a
	// [FixPlanner] plans their fix.
	Carried func(ctx context.Context, s *Snapshot, f *File) []Finding

	// NewState makes the group's state for engine e (its caches, the services it was built
	// with); the group reads it back with Snapshot.State(Name).
	NewState func(e *Engine) any
}

// Options configure an engine.
type Options struct {
	// Groups are the rule groups whose models, hovers and indexes the rules use.
	Groups []*Group
	// ModelCacheBudget bounds the models kept for files that are not open: the sum of their
	// texts' lengths plus 2 KiB each (0: 1 MiB; negative: only the last file's).
	ModelCacheBudget int
	// Log receives internal errors (a recovered panic, with its stack); nil writes to stderr.
	Log func(msg string)
}

// New builds an engine from its rules and options. NR001 is always part of it. It fails on
// an incomplete or duplicate rule, or two groups providing the same fact.
func New(rules []*Rule, opts Options) (*Engine, error) {
	e := &Engine{
		byID:       map[string]*Rule{},
		parse:      map[FileKind][]ParseFunc{},
		hover:      map[FileKind][]HoverFunc{},
		definition: map[FileKind][]Navigator{},
		references: map[FileKind][]Navigator{},
		inspect:    map[FileKind]InspectFunc{},
		kept:       map[any]bool{configKey{}: true, openshiftFileKey{}: true},
		states:     map[string]any{},
		log:        opts.Log,
	}
	budget := opts.ModelCacheBudget
	switch {
	case budget == 0:
		budget = modelCacheBudget
	case budget < 0:
		budget = 0
	}
	e.models = &modelCache{budget: budget}
	if !slices.Contains(rules, NR001) {
		rules = append([]*Rule{NR001}, rules...)
	}
	for _, r := range rules {
		switch {
		case r == nil || r.ID == "" || r.Title == "" || r.Run == nil || len(r.Kinds) == 0:
			id := ""
			if r != nil {
				id = r.ID
			}
			return nil, fmt.Errorf("diagnostics: incomplete rule %q", id)
		case e.byID[r.ID] != nil:
			return nil, fmt.Errorf("diagnostics: duplicate rule %s", r.ID)
		case (r.Fix == nil) != (r.FixTitle == ""):
			return nil, fmt.Errorf("diagnostics: rule %s: a fix needs both Fix and FixTitle", r.ID)
		}
		e.byID[r.ID] = r
		e.rules = append(e.rules, r)
	}
	slices.SortFunc(e.rules, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) })
	for _, g := range opts.Groups {
		if g.Name == "" {
			return nil, fmt.Errorf("diagnostics: a group has no name")
		}
		if _, dup := e.states[g.Name]; dup {
			return nil, fmt.Errorf("diagnostics: duplicate group %s", g.Name)
		}
		e.states[g.Name] = nil
		if g.NewState != nil {
			e.states[g.Name] = g.NewState(e)
		}
		for k, fn := range g.Parse {
			e.parse[k] = append(e.parse[k], fn)
		}
		for k, fn := range g.Hover {
			e.hover[k] = append(e.hover[k], fn)
		}
		for k, fn := range g.Definition {
			e.definition[k] = append(e.definition[k], fn)
		}
		for k, fn := range g.References {
			e.references[k] = append(e.references[k], fn)
		}
		for k, fn := range g.Inspect {
			if e.inspect[k] != nil {
				return nil, fmt.Errorf("diagnostics: two groups inspect %s files", k)
			}
			e.inspect[k] = fn
		}
		if g.Annotate != nil {
			e.annotate = append(e.annotate, g.Annotate)
		}
		if g.InspectWorkspace != nil {
			e.wsInspect = append(e.wsInspect, g.InspectWorkspace)
		}
		if g.Index != nil {
			e.index = append(e.index, g.Index)
		}
		if g.IndexWorkspace != nil {
			e.indexWS = append(e.indexWS, g.IndexWorkspace)
		}
		for _, k := range g.Kept {
			e.kept[k] = true
		}
		if g.Dependents != nil {
			e.dependents = append(e.dependents, g.Dependents)
		}
		if g.OpenShift != nil {
			if e.openShift != nil {
				return nil, fmt.Errorf("diagnostics: two groups detect OpenShift objects")
			}
			e.openShift = g.OpenShift
		}
		if g.BuildTargets != nil {
			if e.buildTargets != nil {
				return nil, fmt.Errorf("diagnostics: two groups resolve build targets")
			}
			e.buildTargets = g.BuildTargets
		}
		if g.BuiltBy != nil {
			if e.builtBy != nil {
				return nil, fmt.Errorf("diagnostics: two groups name build roots")
			}
			e.builtBy = g.BuiltBy
		}
		if g.Carried != nil {
			e.carried = append(e.carried, g.Carried)
		}
		if g.Image != nil {
			if e.image != nil {
				return nil, fmt.Errorf("diagnostics: two groups describe images")
			}
			e.image = g.Image
		}
	}
	return e, nil
}

// Rules returns the engine's rules, sorted by ID.
func (e *Engine) Rules() []*Rule { return slices.Clone(e.rules) }

// RuleByID returns the engine's rule with the given ID, or nil.
func (e *Engine) RuleByID(id string) *Rule { return e.byID[id] }

// NewSnapshot returns a snapshot of the given workspace roots (directories) with editor settings.
func (e *Engine) NewSnapshot(roots []string, settings Config) *Snapshot {
	return newSnapshot(e, roots, settings)
}

// Logf reports an internal error (a recovered panic, a failed background task).
func (e *Engine) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if e.log != nil {
		e.log(msg)
		return
	}
	fmt.Fprintf(os.Stderr, "nonroot-ls: %s\n", msg)
}

// recovered logs a recovered panic v with its stack and returns a one-line description.
func (e *Engine) recovered(where string, v any) string {
	e.Logf("panic in %s: %v\n%s", where, v, debug.Stack())
	return fmt.Sprintf("%v", v)
}

// rulesForHadolint returns the rules whose suppressions a hadolint code also stands for.
func (e *Engine) rulesForHadolint(code string) []string {
	var ids []string
	for _, r := range e.rules {
		for _, h := range r.Hadolint {
			if strings.EqualFold(h, code) {
				ids = append(ids, r.ID)
			}
		}
	}
	return ids
}

// ValidateConfig checks c (see [Config.Validate]) and that every rule it names exists.
func (e *Engine) ValidateConfig(c *Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	ids := make([]string, 0, len(c.Rules))
	for id := range c.Rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if e.byID[id] == nil {
			return fmt.Errorf("rules: unknown rule %q", id)
		}
	}
	return nil
}
