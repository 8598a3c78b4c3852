package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/policy"
)

// Pod Security Admission check IDs the NR2xx rules take their verdict from.
const (
	CheckRunAsNonRoot             = "runAsNonRoot"
	CheckRunAsUser                = "runAsUser"
	CheckAllowPrivilegeEscalation = "allowPrivilegeEscalation"
	CheckCapabilities             = "capabilities_restricted"
	CheckPrivileged               = "privileged"
	CheckSeccomp                  = "seccompProfile_restricted"
	CheckHostPath                 = "hostPathVolumes"
)

// CheckLevel is the Pod Security level each check belongs to.
var CheckLevel = map[string]string{
	CheckRunAsNonRoot:             "restricted",
	CheckRunAsUser:                "restricted",
	CheckAllowPrivilegeEscalation: "restricted",
	CheckCapabilities:             "restricted",
	CheckPrivileged:               "baseline",
	CheckSeccomp:                  "restricted",
	CheckHostPath:                 "baseline",
}

// psaChecks maps a check ID to its latest version's function.
var psaChecks = func() map[string]policy.CheckPodFn {
	m := map[string]policy.CheckPodFn{}
	for _, c := range policy.DefaultChecks() {
		if len(c.Versions) > 0 {
			m[string(c.ID)] = c.Versions[len(c.Versions)-1].CheckPod
		}
	}
	for id := range CheckLevel {
		if m[id] == nil {
			panic("kube: pod-security-admission has no check " + id)
		}
	}
	return m
}()

// PSA runs one Pod Security Admission check (latest policy version) on the whole pod spec of w.
func (w *Workload) PSA(check string) policy.CheckResult {
	fn := psaChecks[check]
	if fn == nil || w.PodSpec == nil {
		return policy.CheckResult{Allowed: true}
	}
	return fn(w.PodMeta, w.PodSpec)
}

// Verdicts are the PSA results of a workload split into what the pod level alone decides and
// what each container decides given a pod level that is not itself at fault. The whole pod
// fails a check exactly when its pod-level result or one of its containers' results fails.
type Verdicts struct {
	Pod        map[string]policy.CheckResult
	Containers []map[string]policy.CheckResult // parallel to Workload.Containers
}

// Verdicts returns the per-level PSA results of w (computed once).
func (w *Workload) Verdicts() *Verdicts {
	if w.verdicts == nil {
		return w.computeVerdicts()
	}
	w.verdicts.once.Do(func() { w.verdicts.v = w.computeVerdicts() })
	return w.verdicts.v
}

func (w *Workload) computeVerdicts() *Verdicts {
	v := &Verdicts{Pod: map[string]policy.CheckResult{}}
	ps := w.PodSpec
	if ps == nil {
		ps = &corev1.PodSpec{}
	}
	podOnly := *ps
	podOnly.Containers, podOnly.InitContainers, podOnly.EphemeralContainers = nil, nil, nil
	for id, fn := range psaChecks {
		if _, ok := CheckLevel[id]; ok {
			v.Pod[id] = fn(w.PodMeta, &podOnly)
		}
	}
	// The pod level as it would be once its own faults are fixed: containers are judged on
	// what they themselves set or leave unset.
	fixed := podOnly
	fixed.Volumes = nil
	if ps.SecurityContext != nil {
		sc := *ps.SecurityContext
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			t := true
			sc.RunAsNonRoot = &t
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			sc.RunAsUser = nil
		}
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault && sc.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost {
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		}
		fixed.SecurityContext = &sc
	}
	for _, c := range w.Containers {
		res := map[string]policy.CheckResult{}
		one := fixed
		tc := c.Typed()
		if tc == nil {
			tc = &corev1.Container{Name: c.Name}
		}
		if tc.Name == "" {
			// The check names the container it judges: an unnamed one by a stand-in, which
			// its details then get replaced with (container 1 (image), never container "").
			named := *tc
			named.Name = unnamed
			tc = &named
		}
		switch {
		case c.Init:
			one.InitContainers = []corev1.Container{*tc}
		case c.Ephemeral:
			one.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(*tc)}}
		default:
			one.Containers = []corev1.Container{*tc}
		}
		for id, fn := range psaChecks {
			if _, ok := CheckLevel[id]; ok && id != CheckHostPath {
				r := fn(w.PodMeta, &one)
				if tc.Name == unnamed {
					r.ForbiddenDetail = strings.ReplaceAll(r.ForbiddenDetail, `container "`+unnamed+`"`, c.Label())
				}
				res[id] = r
			}
		}
		v.Containers = append(v.Containers, res)
	}
	return v
}

// containerVerdict is the result of check for container c of w (allowed when c is not one).
func (w *Workload) containerVerdict(c *Container, check string) policy.CheckResult {
	v := w.Verdicts()
	for i, x := range w.Containers {
		if x == c {
			return v.Containers[i][check]
		}
	}
	return policy.CheckResult{Allowed: true}
}

// unnamed stands for an unnamed container's name in the checks (see computeVerdicts).
const unnamed = "<unnamed>"

// Violation formats a failed check the way the API server words it.
func Violation(check string, r policy.CheckResult) string {
	s := fmt.Sprintf("violates PodSecurity %q: %s", CheckLevel[check]+":latest", r.ForbiddenReason)
	if r.ForbiddenDetail != "" {
		s += " (" + r.ForbiddenDetail + ")"
	}
	return s
}
