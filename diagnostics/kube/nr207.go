package kube

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/nonroot-ls/nonroot-ls/codeactions"
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
)

// NR207 — a PVC/ephemeral volume mounted writable into a non-root container without fsGroup.
var NR207 = &diagnostics.Rule{
	ID:       "NR207",
	Title:    "Writable volume without fsGroup",
	Severity: diagnostics.SeverityWarning,
	Profiles: []diagnostics.Profile{diagnostics.ProfileKubernetes},
	Kinds:    manifestKinds,
	FixTitle: "Add fsGroup to the pod securityContext",
	Fix:      fix(planNR207),
	Field:    "fsGroup",
	Settings: func(uid, gid int) []diagnostics.Setting {
		return []diagnostics.Setting{{Key: "fsGroup", Scalar: strconv.Itoa(gid), ReplaceOnly: "\x00"}}
	},
	Doc: diagnostics.Doc{
		Why:     "A freshly provisioned persistent volume is usually owned by root with mode 755. A non-root container cannot write it unless the kubelet gives the pod's `fsGroup` group ownership and write access.",
		Runtime: "The application fails with `permission denied` the first time it writes to the mount (database init, uploads, caches). With `fsGroup` set, the kubelet chowns the volume to that group and makes it group-writable, and adds the group to every container's supplementary groups.",
		Fix:     "Set `fsGroup` in the pod's `securityContext` (the container's group, e.g. the default 10001 or the image's gid). On OpenShift the SCC assigns fsGroup from the namespace range, so this rule does not run in the openshift profile.",
		Source:  "Kubernetes: \"fsGroup: A special supplemental group that applies to all containers in a pod. Some volume types allow the Kubelet to change the ownership of that volume to be owned by the pod\". Seed article (Bitnami, non-root containers): \"Use Pod Security Policies to specify the user ID and the FSGroup that will own the pod volumes.\"",
		Bad: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
      - name: db
        image: ghcr.io/acme/db:1.0
        volumeMounts:
        - name: data
          mountPath: /var/lib/db
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: db-data
`,
		Good: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
      - name: db
        image: ghcr.io/acme/db:1.0
        volumeMounts:
        - name: data
          mountPath: /var/lib/db
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: db-data
`,
	},
	Run: func(pass *diagnostics.Pass) {
		eachWorkload(pass, func(m *Manifest, w *Workload, out *findings) {
			if w.Pod.FSGroup != nil {
				return
			}
			vols := map[string]*Volume{}
			for _, v := range w.Volumes {
				if v.Type == "persistentVolumeClaim" || v.Type == "ephemeral" {
					vols[v.Name] = v
				}
			}
			if len(vols) == 0 {
				return
			}
			for _, c := range w.Containers {
				if !c.RunsNonRoot() {
					continue
				}
				for _, mt := range c.Mounts {
					v := vols[mt.Name]
					if v == nil || mt.ReadOnly {
						continue
					}
					at := mt.MountPathNode
					if at == nil {
						at = mt.NameNode
					}
					out.add(yamlnode.Range(m.Lines, at), &data{Workload: w, Container: c, Mount: mt, Volume: v},
						"%s volume %q is mounted writable at %s in non-root %s, but the pod sets no fsGroup: the volume stays root-owned and writes fail with \"permission denied\"",
						v.Type, v.Name, mt.MountPath, c.Label())
				}
			}
		})
	},
}

var chownRE = regexp.MustCompile(`(^|[\s;&|/(])(chown|chmod|chgrp)(\s|$)`)

func planNR207(s *diagnostics.Snapshot, e *codeactions.YAMLEditor, d *data) (kubeFix, error) {
	gid := int64(-1)
	if d.Container != nil {
		if g, ok := d.Container.Effective.RunAsGroup.Int(); ok && g > 0 {
			gid = g
		}
	}
	if gid < 0 {
		cfg := s.ConfigFor(d.Manifest.Path)
		uid, g := cfg.User()
		// fsGroup 0 would hand the volume to root's group; the default identity's gid is 0,
		// so use its uid as the group (the kubelet creates no group entry either way).
		gid = int64(g)
		if g == 0 {
			gid = int64(uid)
		}
	}
	return set(e, fmt.Sprintf("Add fsGroup: %d to the pod securityContext", gid), d.Workload.Spec, []string{"securityContext", "fsGroup"}, codeactions.Scalar(strconv.FormatInt(gid, 10)))
}
