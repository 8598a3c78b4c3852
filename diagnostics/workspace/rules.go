package workspace

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
	"go.yaml.in/yaml/v3"
)

// data is the payload of an NR3xx finding, for its quick-fixes.
type data struct {
	Image     *image         // what is known of the image: its linked Dockerfile, or its catalog entry
	Manifest  *kube.Manifest // NR301–NR306
	Container *kube.Container
	Compose   *Compose // NR307
	Service   *Service
	// UID is the uid a fix writes: the uid the image runs as (the Dockerfile's user, the one
	// it creates or its base image's; a catalog image's user or step-down user), else the
	// configured default, with Note saying why the default.
	UID  int
	Note string
}

// FixUID is the uid the finding's fix writes (NR404 writes it into a chart's values too).
func (d *data) FixUID() int { return d.UID }

// OpenShiftUID stands for the arbitrary uid OpenShift's restricted-v2 SCC assigns: it is never
// the image's uid, and its group is 0.
const OpenShiftUID = 1000940000

var manifestKinds = []diagnostics.FileKind{diagnostics.KindManifest}
var clusterProfiles = []diagnostics.Profile{diagnostics.ProfileKubernetes, diagnostics.ProfileOpenShift}

const kubeletSource = "kubelet (pkg/kubelet/kuberuntime, verifyRunAsNonRoot): "

// judged is a container of the pass's manifest with what is known of its image.
type judged struct {
	c  *kube.Container
	m  *kube.Manifest
	im *image
}

type judgedKey struct{ path string }

// judgedContainers returns the containers of the pass's manifest whose image is known: linked
// to a Dockerfile of the workspace that parses (with the stage built for the link's target),
// or in the image catalog. Memoised on the snapshot: the NR3xx rules share it.
func judgedContainers(pass *diagnostics.Pass) []judged {
	return pass.Snapshot.Memo(judgedKey{pass.File.Path}, func() any {
		m := kube.ForFile(pass.File)
		var out []judged
		for _, w := range m.Workloads {
			for _, c := range w.Containers {
				if c.Image == "" || c.ImageNode == nil {
					continue
				}
				if im := imageOf(pass.Snapshot, pass.File.Path, c.Image, yamlnode.Range(m.Lines, c.ImageNode)); im != nil {
					out = append(out, judged{c: c, m: m, im: im})
				}
			}
		}
		return out
	}).([]judged)
}

func (x judged) imageRange() text.Range { return x.im.use.Range }

func (x judged) data(pass *diagnostics.Pass) *data {
	uid, note := x.im.fixUID(pass.Config)
	return &data{Image: x.im, Manifest: x.m, Container: x.c, UID: uid, Note: note}
}

// fixUID is the uid a fix writes for an image: its user's uid when the Dockerfile gives one,
// else the one the build creates, the base image's, or the configured default.
func fixUID(st *dockerfile.Stage, u dockerfile.User, cfg *diagnostics.Config) int {
	if u.UID != nil && *u.UID > 0 {
		return *u.UID
	}
	uid, _ := dockerfile.FixUser(st, cfg)
	return uid
}

// rel is a path relative to its workspace root, for messages.
func rel(s *diagnostics.Snapshot, p string) string {
	if root := s.Root(p); root != "" {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
	}
	return p
}

// userRelated points at where the image's user comes from in the Dockerfile: its USER line,
// the base image of the built stage's ancestry, or the built stage's FROM.
func userRelated(s *diagnostics.Snapshot, l *Link, st *dockerfile.Stage, u dockerfile.User) diagnostics.Related {
	r := diagnostics.Related{File: l.Dockerfile}
	anc := st.Ancestry()
	root := anc[len(anc)-1]
	switch {
	case u.Instr != nil:
		r.Range = u.Range()
		r.Message = fmt.Sprintf("the image's user: %s (USER %s)", u.Describe(), strings.TrimSpace(u.Raw))
	case u.Source == dockerfile.SourceBase:
		r.Range = root.BaseRange
		r.Message = fmt.Sprintf("the image's user: %s, inherited from base image %s", u.Describe(), u.Image)
	default:
		r.Range = st.BaseRange
		r.Message = fmt.Sprintf("the image's user: %s: no USER in stage %s or its ancestry", u.Describe(), st.Label())
	}
	return r
}

// linkRelated points at the evidence of a link (nothing for heuristic links: their evidence
// is the Dockerfile itself).
func linkRelated(s *diagnostics.Snapshot, l *Link) []diagnostics.Related {
	if l.Evidence.File == "" || l.Source == SourceHeuristic {
		return nil
	}
	msg := fmt.Sprintf("%s links %s to %s", l.Source, l.Image, rel(s, l.Dockerfile))
	if l.Image == "" { // a compose service that names no image runs what it builds
		msg = fmt.Sprintf("%s builds the image from %s", l.Source, rel(s, l.Dockerfile))
	}
	return []diagnostics.Related{{File: l.Evidence.File, Range: l.Evidence.Range, Message: msg}}
}

// builtBy says which Dockerfile (and target) builds the image, and how the link was found.
func builtBy(s *diagnostics.Snapshot, l *Link) string {
	out := rel(s, l.Dockerfile)
	if l.Target != "" {
		out += " (target " + l.Target + ")"
	}
	if l.Guess {
		out += ", guessed from the folder name"
	}
	return out
}

func fieldRelated(m *kube.Manifest, f *kube.Field, msg string) []diagnostics.Related {
	if f == nil || f.Node == nil {
		return nil
	}
	return []diagnostics.Related{{File: m.Path, Range: f.Range, Message: msg}}
}

// runAsNonRootWithoutUser reports whether the kubelet checks the image's user: the effective
// runAsNonRoot is true and no runAsUser is set.
func runAsNonRootWithoutUser(c *kube.Container) bool {
	if c.Effective.RunAsUser != nil {
		return false
	}
	v, ok := c.Effective.RunAsNonRoot.Bool()
	return ok && v
}

// refused reports whether the kubelet refuses to start the container (NR301, NR302 say so):
// runAsNonRoot without runAsUser and an image whose user is root or a name. What would go
// wrong after the start (NR303, NR304, NR306) is not said of such a container.
func refused(x judged) bool {
	k := x.im.user.Kind
	return runAsNonRootWithoutUser(x.c) && (k == dockerfile.KindRoot || k == dockerfile.KindNamed)
}

// runtimeIdentity is who the container runs as: uid, primary gid and supplementary groups,
// and a description for messages. ok is false when the uid is not known.
type runtimeIdentity struct {
	uid    int
	gid    int
	groups []int
	what   string
	field  *kube.Field // the field that sets the uid (nil: OpenShift's assignment)
}

func identityOf(c *kube.Container, profile diagnostics.Profile) (runtimeIdentity, bool) {
	var id runtimeIdentity
	if uid, ok := c.Effective.RunAsUser.Int(); ok {
		id.uid, id.field = int(uid), c.Effective.RunAsUser
		id.what = fmt.Sprintf("runAsUser %d", uid)
	} else if profile == diagnostics.ProfileOpenShift {
		id.uid, id.what = OpenShiftUID, "an arbitrary uid OpenShift assigns (restricted-v2), in group 0"
	} else {
		return id, false
	}
	switch {
	case c.Effective.RunAsGroup != nil:
		if g, ok := c.Effective.RunAsGroup.Int(); ok {
			id.gid = int(g)
		}
	default:
		// A runAsUser without runAsGroup takes its group from the image's /etc/passwd entry for
		// that uid, which an overriding uid has not: gid 0. OpenShift's uid is in group 0 too.
		id.gid = 0
	}
	if fs := c.Workload.Pod.FSGroup; fs != nil {
		if g, ok := fs.Int(); ok {
			id.groups = append(id.groups, int(g))
		}
	}
	if sg := c.Workload.Pod.SupplementalGroups; sg != nil && sg.Node != nil && sg.Node.Kind == yaml.SequenceNode {
		for _, n := range sg.Node.Content {
			if g, err := strconv.Atoi(n.Value); err == nil {
				id.groups = append(id.groups, g)
			}
		}
	}
	if profile == diagnostics.ProfileOpenShift {
		id.groups = append(id.groups, 0)
	}
	return id, true
}

// runsNonRoot reports whether the container runs as a non-root uid: runAsUser > 0,
// runAsNonRoot true, or no runAsUser and an image user known not to be root.
func runsNonRoot(c *kube.Container, u dockerfile.User) bool {
	if v, ok := c.Effective.RunAsUser.Int(); ok {
		return v != 0
	}
	if v, ok := c.Effective.RunAsNonRoot.Bool(); ok && v {
		return true
	}
	return u.NonRoot()
}
