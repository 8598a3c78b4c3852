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
	"go.yaml.in/yaml/v3"
)

// Data is the payload of an NR3xx finding, for its quick-fixes.
type Data struct {
	Link      *Link
	Model     *dockerfile.Model
	Stage     *dockerfile.Stage // the built stage
	User      dockerfile.User   // the image's effective user
	Manifest  *kube.Manifest    // NR301–NR306
	Container *kube.Container
	Compose   *Compose // NR307
	Service   *Service
	Path      *dockerfile.PathPerm // NR303, NR305
	Mount     *kube.Mount          // NR305
	// UID is the uid a fix writes: the uid the Dockerfile gives the image's user, else the
	// one it creates or its base image's, else the configured default.
	UID int
	// GID is the gid a fix writes (NR303: the owning group).
	GID int
}

// OpenShiftUID stands for the arbitrary uid OpenShift's restricted-v2 SCC assigns: it is never
// the image's uid, and its group is 0.
const OpenShiftUID = 1000940000

var manifestKinds = []diagnostics.FileKind{diagnostics.KindManifest}
var clusterProfiles = []diagnostics.Profile{diagnostics.ProfileKubernetes, diagnostics.ProfileOpenShift}

const kubeletSource = "kubelet (pkg/kubelet/kuberuntime, verifyRunAsNonRoot): "

// linked is a container whose image the workspace builds, with the built stage's model.
type linked struct {
	c    *kube.Container
	m    *kube.Manifest
	link *Link
	df   *dockerfile.Model
	st   *dockerfile.Stage
	user dockerfile.User
}

// linkedContainers returns the containers of the pass's manifest whose image is linked to a
// Dockerfile of the workspace that parses, with the stage that is built for the link's target.
func linkedContainers(pass *diagnostics.Pass) []linked {
	m := kube.ForFile(pass.File)
	if len(m.Workloads) == 0 {
		return nil
	}
	g := For(pass.Snapshot)
	var out []linked
	for _, w := range m.Workloads {
		for _, c := range w.Containers {
			if c.Image == "" || c.ImageNode == nil {
				continue
			}
			l := g.LinkAt(pass.File.Path, c.Image)
			if l == nil {
				continue
			}
			df, err := dockerfile.For(pass.Snapshot, l.Dockerfile)
			if err != nil || df.Fatal {
				continue
			}
			st := df.Built(l.Target)
			if st == nil || st.Windows {
				continue
			}
			u := st.User()
			if u.Windows {
				continue
			}
			out = append(out, linked{c: c, m: m, link: l, df: df, st: st, user: u})
		}
	}
	return out
}

func (x linked) imageRange() text.Range { return kube.Range(x.m.Lines, x.c.ImageNode) }

func (x linked) data(pass *diagnostics.Pass) *Data {
	return &Data{Link: x.link, Model: x.df, Stage: x.st, User: x.user, Manifest: x.m, Container: x.c, UID: fixUID(x.st, x.user, pass.Config)}
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
	return []diagnostics.Related{{File: l.Evidence.File, Range: l.Evidence.Range,
		Message: fmt.Sprintf("%s links %s to %s", l.Source, l.Image, rel(s, l.Dockerfile))}}
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

// NR301 — runAsNonRoot with an image whose user is a name.
var NR301 = &diagnostics.Rule{
	ID:       "NR301",
	Title:    "runAsNonRoot cannot verify the linked image's named user",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsUser with the image user's uid (or make the Dockerfile's USER numeric)",
	Doc: diagnostics.Doc{
		Why:     "With `runAsNonRoot: true` and no `runAsUser`, the kubelet must prove from the image that it does not run as root. An image whose USER is a name (`USER app`) gives it nothing to check: the name is resolved only inside the container.",
		Runtime: "The container never starts: the pod shows `CreateContainerConfigError` with `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root`.",
		Fix:     "Set `runAsUser` to the user's uid in the manifest, or make the Dockerfile's `USER` numeric (`USER 10001:0`, the uid the Dockerfile gives that user).",
		Source:  kubeletSource + "image user a name → \"container has runAsNonRoot and image has non-numeric user (NAME), cannot verify user is non-root\"; an explicit non-zero runAsUser skips the image check (SPEC §6).",
		Bad:     "# Dockerfile\nFROM alpine:3.21\nRUN adduser -D -u 10001 app\nUSER app\n---\n# deployment.yaml\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n    - name: app\n      image: ghcr.io/acme/app:1.0\n",
		Good:    "# Dockerfile\nFROM alpine:3.21\nRUN adduser -D -u 10001 app\nUSER 10001:0\n---\n# deployment.yaml\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n    - name: app\n      image: ghcr.io/acme/app:1.0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if !runAsNonRootWithoutUser(x.c) || x.user.Kind != dockerfile.KindNamed {
				continue
			}
			related := append([]diagnostics.Related{userRelated(pass.Snapshot, x.link, x.st, x.user)},
				fieldRelated(x.m, x.c.Effective.RunAsNonRoot, "runAsNonRoot: true is set here, runAsUser nowhere")...)
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("%s will not start: runAsNonRoot is true, no runAsUser is set, and image %s (built by %s) runs as user %q, a name the kubelet cannot check: \"container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root\" (CreateContainerConfigError)",
					x.c.Label(), x.c.Image, builtBy(pass.Snapshot, x.link), x.user.Name, x.user.Name),
				Related: append(related, linkRelated(pass.Snapshot, x.link)...),
				Data:    x.data(pass),
			})
		}
	},
}

// NR302 — runAsNonRoot with an image that runs as root.
var NR302 = &diagnostics.Rule{
	ID:       "NR302",
	Title:    "runAsNonRoot with a linked image that runs as root",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	FixTitle: "Add runAsUser to the container (or USER to the Dockerfile)",
	Doc: diagnostics.Doc{
		Why:     "`runAsNonRoot: true` without `runAsUser` asks the kubelet to check the image's user, and the Dockerfile that builds the image leaves it as root (no USER, `USER root` or `USER 0`).",
		Runtime: "The container never starts: the pod shows `CreateContainerConfigError` with `container has runAsNonRoot and image will run as root`.",
		Fix:     "Add a non-root `USER <uid>:0` to the Dockerfile's built stage, or set `runAsUser` to a non-zero uid in the manifest.",
		Source:  kubeletSource + "image user 0 → \"container has runAsNonRoot and image will run as root\" (SPEC §6).",
		Bad:     "# Dockerfile\nFROM debian:12\nCMD [\"/app\"]\n---\n# deployment.yaml\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n    - name: app\n      image: acme/app\n",
		Good:    "# Dockerfile\nFROM debian:12\nUSER 10001:0\nCMD [\"/app\"]\n---\n# deployment.yaml\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n    - name: app\n      image: acme/app\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if !runAsNonRootWithoutUser(x.c) || x.user.Kind != dockerfile.KindRoot {
				continue
			}
			related := append([]diagnostics.Related{userRelated(pass.Snapshot, x.link, x.st, x.user)},
				fieldRelated(x.m, x.c.Effective.RunAsNonRoot, "runAsNonRoot: true is set here, runAsUser nowhere")...)
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("%s will not start: runAsNonRoot is true, no runAsUser is set, and image %s (built by %s) runs as root (%s): \"container has runAsNonRoot and image will run as root\" (CreateContainerConfigError)",
					x.c.Label(), x.c.Image, builtBy(pass.Snapshot, x.link), x.user.From()),
				Related: append(related, linkRelated(pass.Snapshot, x.link)...),
				Data:    x.data(pass),
			})
		}
	},
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

func identityOf(c *kube.Container, u dockerfile.User, profile diagnostics.Profile) (runtimeIdentity, bool) {
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

// writes returns the paths the image prepares for its user to write: those the build
// creates or changes and leaves writable for that user, and its VOLUMEs.
func writes(st *dockerfile.Stage, u dockerfile.User) []dockerfile.PathPerm {
	var out []dockerfile.PathPerm
	seen := map[string]bool{}
	for _, p := range st.WritablePaths() {
		if acc, _ := st.WriteAccess(u, p.Path); acc == dockerfile.AccessWritable && !seen[p.Path] && p.Path != "/" {
			seen[p.Path] = true
			out = append(out, p)
		}
	}
	for _, a := range st.Ancestry() {
		for _, v := range a.Volumes {
			if !seen[v.Value] {
				seen[v.Value] = true
				out = append(out, dockerfile.PathPerm{Path: v.Value, Op: "VOLUME", Range: v.Range, Instr: v.Instr})
			}
		}
	}
	return out
}

// NR303 — the manifest's uid/gid cannot write what the image prepared for its own user.
var NR303 = &diagnostics.Rule{
	ID:       "NR303",
	Title:    "Runtime uid/gid cannot write the paths the image prepared for its user",
	Severity: diagnostics.SeverityWarning,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "The Dockerfile gives a path (a data or cache directory) to its own user: `chown 10001 /data` with mode 755. The manifest runs the container as another uid (`runAsUser`, or OpenShift's arbitrary uid with gid 0) whose group has no write access there.",
		Runtime: "The application fails when it first writes: `Permission denied` on the path, often as a crash loop.",
		Fix:     "Run as the image's uid, set `runAsGroup`/`fsGroup` to the owning gid, or make the path group-owned by 0 and group-writable in the Dockerfile (`chgrp -R 0 P && chmod -R g=u P`), which works for any uid in group 0.",
		Source:  "OpenShift restricted-v2: the uid comes from the namespace range, gid 0 is a supplementary group; images should `chgrp -R 0` and `chmod -R g=u` the paths they write (SPEC §6).",
		Bad:     "# Dockerfile\nFROM alpine:3.21\nRUN mkdir /data && chown 10001 /data && chmod 755 /data\nUSER 10001\n---\n# pod.yaml\nspec:\n  containers:\n    - name: app\n      image: acme/app\n      securityContext:\n        runAsUser: 20000\n",
		Good:    "# Dockerfile\nFROM alpine:3.21\nRUN mkdir /data && chown 10001:0 /data && chmod 775 /data\nUSER 10001:0\n---\n# pod.yaml\nspec:\n  containers:\n    - name: app\n      image: acme/app\n      securityContext:\n        runAsUser: 20000\n        runAsGroup: 0\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if x.user.UID == nil || *x.user.UID == 0 {
				continue
			}
			id, ok := identityOf(x.c, x.user, pass.Profile)
			if !ok || id.uid == *x.user.UID || id.uid == 0 {
				continue
			}
			for _, p := range writes(x.st, x.user) {
				if p.Op == "VOLUME" || !ownedBy(p, x.user) {
					continue
				}
				if canWrite(x.st, p.Path, id) {
					continue
				}
				rng := x.imageRange()
				if id.field != nil {
					rng = id.field.Range
				}
				pp := p
				d := x.data(pass)
				d.Path = &pp
				if p.GID != nil {
					d.GID = *p.GID
				}
				pass.Report(diagnostics.Finding{
					Range: rng,
					Message: fmt.Sprintf("%s runs as %s (gid %d), not as the image's uid %d, and %s is owned by uid %d without write access for its groups: writes there fail with \"Permission denied\"",
						x.c.Label(), id.what, id.gid, *x.user.UID, p.Path, *x.user.UID),
					Related: append([]diagnostics.Related{{File: x.link.Dockerfile, Range: p.Range,
						Message: fmt.Sprintf("%s gets owner %s, mode %s here", p.Path, ownerOf(p), modeOf(p))}},
						userRelated(pass.Snapshot, x.link, x.st, x.user)),
					Data: d,
				})
				break
			}
		}
	},
}

func ownedBy(p dockerfile.PathPerm, u dockerfile.User) bool {
	if p.UID != nil && u.UID != nil {
		return *p.UID == *u.UID
	}
	return p.Owner != "" && (p.Owner == u.Name || (u.UID != nil && p.Owner == strconv.Itoa(*u.UID)))
}

func ownerOf(p dockerfile.PathPerm) string {
	o := p.Owner
	if o == "" {
		o = "unchanged"
	}
	if p.Group != "" {
		o += ":" + p.Group
	}
	return o
}

func modeOf(p dockerfile.PathPerm) string {
	if p.Mode == "" {
		return "default"
	}
	return p.Mode
}

// canWrite reports whether the runtime identity can write path in the image (its primary or
// any supplementary group counts).
func canWrite(st *dockerfile.Stage, path string, id runtimeIdentity) bool {
	for _, gid := range append([]int{id.gid}, id.groups...) {
		uid, g := id.uid, gid
		u := dockerfile.User{Kind: dockerfile.KindNumeric, UID: &uid, GID: &g, Value: strconv.Itoa(uid) + ":" + strconv.Itoa(g)}
		if acc, _ := st.WriteAccess(u, path); acc != dockerfile.AccessDenied {
			return true
		}
	}
	return false
}

// NR304 — the entrypoint drops privileges but the workload runs non-root.
var NR304 = &diagnostics.Rule{
	ID:       "NR304",
	Title:    "Entrypoint switches user but the workload runs non-root",
	Severity: diagnostics.SeverityError,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "The image's entrypoint starts as root and then drops to another user (`gosu`, `su-exec`, `setpriv`, `runuser`, `su`, `chroot --userspec`) or chowns its data at start. The manifest runs the container as non-root, so the entrypoint never has root.",
		Runtime: "The container exits at start: `gosu: error: failed switching to \"app\": operation not permitted`, `su-exec: setgroups: Operation not permitted`, `chown: changing ownership of '/data': Operation not permitted`; the pod goes into CrashLoopBackOff.",
		Fix:     "Build the image to run as its user from the start (USER in the Dockerfile, ownership set at build time) and remove the privilege drop from the entrypoint, or drop runAsNonRoot/runAsUser for this container and accept that it starts as root.",
		Source:  "Seed articles: an entrypoint that calls gosu/su-exec \"must start as root\"; with a non-root securityContext those calls fail with \"operation not permitted\".",
		Bad:     "# docker-entrypoint.sh\nchown -R app /data\nexec gosu app \"$@\"\n---\n# pod.yaml\nspec:\n  securityContext:\n    runAsUser: 999\n",
		Good:    "# Dockerfile\nRUN install -d -o 999 -g 0 -m 775 /data\nUSER 999:0\nENTRYPOINT [\"/app\"]\n---\n# pod.yaml\nspec:\n  securityContext:\n    runAsUser: 999\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if !x.c.RunsNonRoot() {
				continue
			}
			drops := x.df.PrivilegeDrops(pass.Snapshot, x.st)
			if len(drops) == 0 {
				continue
			}
			f, how := x.c.Effective.RunAsUser, ""
			if v, ok := f.Int(); ok && v != 0 {
				how = fmt.Sprintf("runAsUser %d", v)
			} else {
				f, how = x.c.Effective.RunAsNonRoot, "runAsNonRoot: true"
			}
			rng := x.imageRange()
			if f != nil && f.Node != nil && f.Range.Start.Line >= 0 {
				rng = f.Range
			}
			d := drops[0]
			var related []diagnostics.Related
			for _, dr := range drops {
				related = append(related, diagnostics.Related{File: dr.File, Range: dr.Range,
					Message: fmt.Sprintf("%s needs root: %s", dr.Tool, dr.Text)})
			}
			pass.Report(diagnostics.Finding{
				Range: rng,
				Message: fmt.Sprintf("%s runs non-root (%s), but the entrypoint of image %s switches user at runtime (%s in %s line %d), which needs root: it fails at start with \"operation not permitted\" and the pod crash-loops",
					x.c.Label(), how, x.c.Image, d.Tool, rel(pass.Snapshot, d.File), d.Line+1),
				Related: append(related, linkRelated(pass.Snapshot, x.link)...),
				Data:    x.data(pass),
			})
		}
	},
}

// NR305 — a read-only, root-owned volume over a path the image writes.
var NR305 = &diagnostics.Rule{
	ID:       "NR305",
	Title:    "configMap/secret volume mounted over a path the image writes",
	Severity: diagnostics.SeverityWarning,
	Profiles: clusterProfiles,
	Kinds:    manifestKinds,
	Doc: diagnostics.Doc{
		Why:     "configMap, secret, projected and downwardAPI volumes are mounted read-only and owned by root. Mounted over a directory the image prepared for its user to write, they hide it.",
		Runtime: "The application's writes there fail with `Read-only file system` (or `Permission denied`), typically at start when it writes a cache, a pid file or generated config.",
		Fix:     "Mount the volume on a path the image only reads (or a single file with `subPath`), and keep the writable directory separate (an emptyDir if it must be shared).",
		Source:  "Kubernetes: configMap and secret volumes are always mounted read-only (since 1.9.6, \"atomic writer\" volumes); their files are owned by root unless fsGroup is set.",
		Bad:     "# Dockerfile\nRUN mkdir /app/conf && chown 10001 /app/conf\n---\n# pod.yaml\n      volumeMounts:\n        - name: config\n          mountPath: /app/conf\n  volumes:\n    - name: config\n      configMap: {name: app}\n",
		Good:    "      volumeMounts:\n        - name: config\n          mountPath: /etc/app\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if len(x.c.Mounts) == 0 {
				continue
			}
			vols := map[string]*kube.Volume{}
			for _, v := range x.c.Workload.Volumes {
				vols[v.Name] = v
			}
			paths := writes(x.st, x.user)
			for _, mt := range x.c.Mounts {
				v := vols[mt.Name]
				if v == nil || mt.MountPathNode == nil || hasSubPath(mt.Node) {
					continue
				}
				switch v.Type {
				case "configMap", "secret", "projected", "downwardAPI":
				default:
					continue
				}
				mp := strings.TrimSuffix(mt.MountPath, "/")
				for _, p := range paths {
					if p.Path != mp && !strings.HasPrefix(p.Path, mp+"/") {
						continue
					}
					pp := p
					d := x.data(pass)
					d.Path, d.Mount = &pp, mt
					what := "writes"
					if p.Op == "VOLUME" {
						what = "declares as a VOLUME"
					}
					pass.Report(diagnostics.Finding{
						Range: kube.Range(x.m.Lines, mt.MountPathNode),
						Message: fmt.Sprintf("%s mounts %s volume %q over %s, which image %s %s (%s line %d): the mount is read-only and owned by root, so writes there fail with \"Read-only file system\"",
							x.c.Label(), v.Type, v.Name, mt.MountPath, x.c.Image, what, rel(pass.Snapshot, x.link.Dockerfile), p.Range.Start.Line+1),
						Related: []diagnostics.Related{{File: x.link.Dockerfile, Range: p.Range, Message: fmt.Sprintf("the image prepares %s for writing here", p.Path)}},
						Data:    d,
					})
					break
				}
			}
		}
	},
}

func hasSubPath(n *yaml.Node) bool {
	for _, p := range pairs(n) {
		if p.key.Value == "subPath" || p.key.Value == "subPathExpr" {
			return true
		}
	}
	return false
}

// NR306 — the image EXPOSEs a privileged port and the container runs non-root without
// NET_BIND_SERVICE.
var NR306 = &diagnostics.Rule{
	ID:         "NR306",
	Title:      "Linked image listens below 1024 but the container runs non-root without NET_BIND_SERVICE",
	Severity:   diagnostics.SeverityInfo,
	SeverityIn: map[diagnostics.Profile]diagnostics.Severity{diagnostics.ProfileOpenShift: diagnostics.SeverityWarning},
	Profiles:   clusterProfiles,
	Kinds:      manifestKinds,
	FixTitle:   "Add NET_BIND_SERVICE to the container's capabilities",
	Doc: diagnostics.Doc{
		Why:     "The Dockerfile EXPOSEs a port below 1024, and the container runs as a non-root user without the NET_BIND_SERVICE capability, which binding such a port needs unless the runtime lowers `net.ipv4.ip_unprivileged_port_start`.",
		Runtime: "Docker ≥ 20.10 and containerd ≥ 2.0 set `net.ipv4.ip_unprivileged_port_start=0`, so it works there; on CRI-O (OpenShift) and older runtimes the server fails to start: `bind: permission denied`.",
		Fix:     "Listen on a port ≥ 1024 (and map the Service port), or add `NET_BIND_SERVICE` to `capabilities.add` (the only capability restricted PSS allows), or `setcap cap_net_bind_service=+ep` on the binary in the Dockerfile.",
		Source:  "Linux capabilities(7): CAP_NET_BIND_SERVICE \"Bind a socket to Internet domain privileged ports (port numbers less than 1024)\"; SPEC §3 NR108 runtime caveat.",
		Bad:     "# Dockerfile\nEXPOSE 80\nUSER 101\n---\n# pod.yaml\n      securityContext:\n        runAsNonRoot: true\n",
		Good:    "# pod.yaml\n      securityContext:\n        runAsNonRoot: true\n        capabilities:\n          drop: [ALL]\n          add: [NET_BIND_SERVICE]\n",
	},
	Run: func(pass *diagnostics.Pass) {
		for _, x := range linkedContainers(pass) {
			if !runsNonRoot(x.c, x.user) || hasCap(x.c, "NET_BIND_SERVICE") || setcapBind(x.st) {
				continue
			}
			var low []dockerfile.Port
			for _, a := range x.st.Ancestry() {
				for _, p := range a.Ports {
					if p.Number > 0 && p.Number < 1024 {
						low = append(low, p)
					}
				}
			}
			if len(low) == 0 {
				continue
			}
			var nums []string
			var related []diagnostics.Related
			for _, p := range low {
				nums = append(nums, strconv.Itoa(p.Number))
				related = append(related, diagnostics.Related{File: x.link.Dockerfile, Range: p.Range, Message: fmt.Sprintf("EXPOSE %s", p.Value)})
			}
			pass.Report(diagnostics.Finding{
				Range: x.imageRange(),
				Message: fmt.Sprintf("image %s EXPOSEs port %s and %s runs non-root without NET_BIND_SERVICE: binding it fails with \"permission denied\" on runtimes that keep net.ipv4.ip_unprivileged_port_start at 1024 (CRI-O/OpenShift); Docker ≥ 20.10 and containerd ≥ 2.0 allow it",
					x.c.Image, strings.Join(nums, ", "), x.c.Label()),
				Related: related,
				Data:    x.data(pass),
			})
		}
	},
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

func hasCap(c *kube.Container, name string) bool {
	for _, f := range c.Effective.CapabilitiesAdd {
		v := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(f.Value), "CAP_"))
		if v == name || v == "ALL" {
			return true
		}
	}
	return false
}

func setcapBind(st *dockerfile.Stage) bool {
	for _, a := range st.Ancestry() {
		for _, sc := range a.Setcaps {
			if strings.Contains(strings.ToLower(sc.Caps), "net_bind_service") {
				return true
			}
		}
	}
	return false
}

func init() {
	diagnostics.Register(NR301, NR302, NR303, NR304, NR305, NR306, NR307)
}
