package dockerfile

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
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

// BuiltStage returns the model and the stage that is built for the Dockerfile f, or nil when
// the file cannot be judged by Linux rules (it does not parse, has no stage, or builds a
// Windows image).
func BuiltStage(s *diagnostics.Snapshot, f *diagnostics.File) (*Model, *Stage) {
	if f.Binary() {
		return nil, nil
	}
	m := Of(f)
	if m.Fatal {
		return nil, nil
	}
	st := m.Built(TargetFor(s, f.Path))
	if st == nil || st.Windows || st.User().Windows {
		return nil, nil
	}
	return m, st
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
