package kube_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	_ "github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

const hoverSrc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1000
        runAsNonRoot: true
      containers:
      - name: web
        image: nginxinc/nginx-unprivileged:1.27
        securityContext:
          runAsUser: 2000
          allowPrivilegeEscalation: false
      - name: side
        image: busybox
`

func snap(t *testing.T, name, src string) (*diagnostics.Snapshot, string) {
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	return alltest.Engine().NewSnapshot([]string{dir}, diagnostics.Config{}).WithFile(p, 1, "yaml", src), p
}

func posOf(src, needle string) text.Pos {
	l := text.NewLines(src)
	return l.PosAt(strings.Index(src, needle) + 1)
}

func TestHover(t *testing.T) {
	s, p := snap(t, "d.yaml", hoverSrc)
	for _, tc := range []struct{ at, want string }{
		{"runAsUser: 2000", "`2000` (from the container level, line 15)"},
		{"runAsUser: 1000", `container "side": ` + "`1000` (from the pod level, line 9)"},
		{"runAsNonRoot", "kubelet"},
		{"allowPrivilegeEscalation", "no_new_privs"},
		{"image: nginxinc", "runs as uid 2000 (container level); runAsNonRoot is enforced"},
		{"image: busybox", "runs as uid 1000 (pod level)"},
	} {
		h := s.Hover(context.Background(), p, posOf(hoverSrc, tc.at))
		if h == nil || !strings.Contains(h.Markdown, tc.want) {
			t.Errorf("hover at %q: want %q in\n%v", tc.at, tc.want, h)
		}
	}
	if h := s.Hover(context.Background(), p, posOf(hoverSrc, "apiVersion")); h != nil {
		t.Errorf("hover on apiVersion: %v", h.Markdown)
	}
}

func TestInspect(t *testing.T) {
	s, p := snap(t, "d.yaml", hoverSrc)
	v, err := s.Inspect(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(v)
	var got []map[string]any
	json.Unmarshal(data, &got)
	if len(got) != 2 {
		t.Fatalf("inspect: %s", data)
	}
	sc := got[0]["securityContext"].(map[string]any)
	if ru := sc["runAsUser"].(map[string]any); ru["value"] != 2000.0 || ru["from"] != "container" {
		t.Errorf("runAsUser %v", ru)
	}
	if nr := sc["runAsNonRoot"].(map[string]any); nr["value"] != true || nr["from"] != "pod" {
		t.Errorf("runAsNonRoot %v", nr)
	}
	if got[0]["kind"] != "Deployment" || got[0]["name"] != "web" || got[0]["container"] != "web" || got[0]["init"] != false || got[0]["line"] != 12.0 {
		t.Errorf("header %v", got[0])
	}
}
