package dockerfile

import (
	"slices"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// userData is the payload of NR102/NR103/NR104/NR110 findings: the effective user and its stage.
type userData struct {
	User  User
	Stage *Stage
}

// TargetFor returns the build target of the Dockerfile at path ("" for the last stage): the
// one the workspace's build configurations give it (compose, bake, skaffold).
func TargetFor(s *diagnostics.Snapshot, path string) string {
	if s == nil {
		return ""
	}
	return s.BuildTarget(path)
}

// BuiltStage returns the model and the stage that is built for the Dockerfile f (the most
// trusted build's, when the workspace builds several), or nil when the file cannot be judged
// by Linux rules (it does not parse, has no stage, never runs or builds a Windows image).
func BuiltStage(s *diagnostics.Snapshot, f *diagnostics.File) (*Model, *Stage) {
	return builtFor(f, TargetFor(s, f.Path))
}

// builtFor returns the model of f and the stage built for target, or nil (see BuiltStage).
func builtFor(f *diagnostics.File, target string) (*Model, *Stage) {
	if f.Binary() {
		return nil, nil
	}
	m := Of(f)
	if m.Fatal {
		return nil, nil
	}
	st := m.Built(target)
	if st == nil || st.Windows || st.User().Windows || st.Export() {
		return nil, nil
	}
	return m, st
}

// BuiltStages returns the model and the stages the workspace builds from the Dockerfile f,
// one per build target (compose `target: dev`, a CI build of the default stage), each once,
// the most trusted first; those that never run (an export stage, see Stage.Export) or that
// Linux rules cannot judge (a Windows image) left out. None when the file does not parse or
// has no stage.
func BuiltStages(s *diagnostics.Snapshot, f *diagnostics.File) (*Model, []*Stage) {
	targets := []string{""}
	if s != nil {
		if ts := s.BuildTargets(f.Path); len(ts) > 0 {
			targets = ts
		}
	}
	var m *Model
	var out []*Stage
	for _, t := range targets {
		mt, st := builtFor(f, t)
		if st != nil && !slices.Contains(out, st) {
			m, out = mt, append(out, st)
		}
	}
	return m, out
}

// JudgeBuilt makes a rule's Run of judge, which reports what it finds in one built stage: it
// judges every stage the workspace builds from the pass's Dockerfile and reports each finding
// once. When several are built, a finding says which of them it is about.
func JudgeBuilt(judge func(pass *diagnostics.Pass, st *Stage)) func(*diagnostics.Pass) {
	return func(pass *diagnostics.Pass) {
		if ts := pass.Snapshot.BuildTargets(pass.File.Path); len(ts) <= 1 {
			if _, st := BuiltStage(pass.Snapshot, pass.File); st != nil {
				judge(pass, st)
			}
			return
		}
		_, sts := BuiltStages(pass.Snapshot, pass.File)
		if len(sts) <= 1 {
			for _, st := range sts {
				judge(pass, st)
			}
			return
		}
		type key struct {
			rng text.Range
			msg string
		}
		var order []key
		found := map[key]diagnostics.Finding{}
		targets := map[key][]string{}
		for _, st := range sts {
			for _, f := range pass.Collect(func(p *diagnostics.Pass) { judge(p, st) }) {
				k := key{f.Range, f.Message}
				if _, ok := found[k]; !ok {
					order = append(order, k)
					found[k] = f
				}
				targets[k] = append(targets[k], st.Label())
			}
		}
		for _, k := range order {
			f := found[k]
			ts := targets[k]
			if len(ts) == 1 {
				f.Message += " (built target " + ts[0] + ")"
			} else {
				f.Message += " (built targets " + strings.Join(ts, ", ") + ")"
			}
			pass.Report(f)
		}
	}
}

// buildSet returns the stages that are built for st: itself, its parents and the stages it
// copies from (transitively), in file order.
func buildSet(st *Stage) []*Stage {
	seen := map[*Stage]bool{}
	var visit func(*Stage)
	visit = func(s *Stage) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		visit(s.Parent)
		for _, d := range s.DependsOn {
			visit(d)
		}
	}
	visit(st)
	var out []*Stage
	for _, s := range st.model.Stages {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out
}

// FixUser returns the identity a quick-fix writes: a non-root uid the Dockerfile already
// creates (the last one with an explicit uid), else the base image's known non-root user,
// else the configured default (10001:0). The gid is the configured one (0).
func FixUser(st *Stage, cfg *diagnostics.Config) (uid, gid int) {
	uid, gid = cfg.User()
	if st == nil {
		return uid, gid
	}
	created := st.CreatedUsers()
	for i := len(created) - 1; i >= 0; i-- {
		if c := created[i]; c.UID != nil && *c.UID > 0 {
			return *c.UID, gid
		}
	}
	root := st.Ancestry()[len(st.Ancestry())-1]
	if u := root.Initial; u.Source == SourceBase && u.NonRoot() && u.UID != nil && *u.UID > 0 {
		return *u.UID, gid
	}
	return uid, gid
}

var kinds = []diagnostics.FileKind{diagnostics.KindDockerfile}

func userFromFile(u User) bool {
	return (u.Source == SourceUSER || u.Source == SourceStage) && u.Instr != nil
}
