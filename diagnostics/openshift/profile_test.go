package openshift_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/all/alltest"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/diagtest"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/openshift"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

const route = "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata:\n  name: frontend\nspec:\n  to:\n    kind: Service\n    name: frontend\n"

const namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n    openshift.io/sa.scc.uid-range: 1000940000/10000\n"

func TestWhy(t *testing.T) {
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{"app/Dockerfile": "FROM alpine\n", "deploy/route.yaml": route})
	r := openshift.Why(s, filepath.Join(dir, "app/Dockerfile"))
	if r.Profile != diagnostics.ProfileOpenShift || r.Because != "openshift-objects" || r.Source != "deploy/route.yaml" || r.Line != 2 || r.Object != "Route/frontend" {
		t.Errorf("detected: %+v", r)
	}
	if got := r.String(); !strings.Contains(got, "Route/frontend in deploy/route.yaml line 2") {
		t.Errorf("detected: %q", got)
	}

	s, dir = diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM alpine\n", ".nonroot-ls.yaml": "profile: openshift\n"})
	if r := openshift.Why(s, filepath.Join(dir, "Dockerfile")); r.Because != "configuration" || r.Source != ".nonroot-ls.yaml" {
		t.Errorf("configured: %+v", r)
	}
	s = s.WithSettings(diagnostics.Config{Profile: "openshift"})
	os.Remove(filepath.Join(dir, ".nonroot-ls.yaml"))
	s = s.WithDiskChanges()
	if r := openshift.Why(s, filepath.Join(dir, "Dockerfile")); r.Because != "configuration" || !strings.Contains(r.Source, "editor settings") {
		t.Errorf("settings: %+v", r)
	}

	s, dir = diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM alpine\n"})
	if r := openshift.Why(s, filepath.Join(dir, "Dockerfile")); r.Profile != diagnostics.ProfileKubernetes || r.Because != "default" {
		t.Errorf("default: %+v", r)
	}
}

func TestHoverExplainsArbitraryUID(t *testing.T) {
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{
		"Dockerfile":     "FROM alpine:3.20\nUSER 10001:0\nCMD [\"app\"]\n",
		"route.yaml":     route,
		"namespace.yaml": namespace,
	})
	h := s.Hover(context.Background(), filepath.Join(dir, "Dockerfile"), text.Pos{Line: 1, Col: 2})
	if h == nil {
		t.Fatal("no hover on USER")
	}
	for _, want := range []string{"arbitrary uid in group 0", "runs as uid **1000940000**", "Why gid 0", "chgrp -R 0", "must be in the ranges", "Route/frontend in route.yaml line 2"} {
		if !strings.Contains(h.Markdown, want) {
			t.Errorf("hover lacks %q:\n%s", want, h.Markdown)
		}
	}
	// On the namespace's annotation, and on the Route's kind.
	if h := s.Hover(context.Background(), filepath.Join(dir, "namespace.yaml"), text.Pos{Line: 5, Col: 40}); h == nil || !strings.Contains(h.Markdown, "namespace `shop`") {
		t.Errorf("hover on uid-range: %+v", h)
	}
	if h := s.Hover(context.Background(), filepath.Join(dir, "route.yaml"), text.Pos{Line: 1, Col: 7}); h == nil || !strings.Contains(h.Markdown, "OpenShift object") {
		t.Errorf("hover on kind: Route: %+v", h)
	}

	// Not under the kubernetes profile.
	s, dir = diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM alpine:3.20\nUSER 10001:0\nCMD [\"app\"]\n"})
	if h := s.Hover(context.Background(), filepath.Join(dir, "Dockerfile"), text.Pos{Line: 1, Col: 2}); h != nil && strings.Contains(h.Markdown, "arbitrary uid in group 0") {
		t.Errorf("openshift hover under the kubernetes profile:\n%s", h.Markdown)
	}
}

func TestInspectSaysWhyProfileIsOn(t *testing.T) {
	s, dir := diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM alpine:3.20\nUSER 10001:0\n", "route.yaml": route})
	v, err := s.Inspect(context.Background(), filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(v)
	var got struct {
		Stage   string `json:"stage"`
		Profile struct {
			Name, Because, Source, Object, Why string
		} `json:"profile"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Stage == "" || got.Profile.Name != "openshift" || got.Profile.Because != "openshift-objects" || got.Profile.Object != "Route/frontend" || got.Profile.Why == "" {
		t.Errorf("inspect: %s", data)
	}
	// The kubernetes profile adds nothing.
	s, dir = diagtest.Workspace(t, alltest.Engine(), map[string]string{"Dockerfile": "FROM alpine:3.20\nUSER 10001:0\n"})
	v, _ = s.Inspect(context.Background(), filepath.Join(dir, "Dockerfile"))
	if data, _ := json.Marshal(v); strings.Contains(string(data), `"profile"`) {
		t.Errorf("kubernetes inspect has a profile: %s", data)
	}
}

func TestParseIDRanges(t *testing.T) {
	for in, want := range map[string]string{
		"1000940000/10000":            "[1000940000, 1000949999]",
		"1000-1999":                   "[1000, 1999]",
		"1000940000/10000,5000/1":     "[1000940000, 1000949999] [5000, 5000]",
		" 1000940000/10000 ":          "[1000940000, 1000949999]",
		"1000940000/0":                "",
		"x/10":                        "",
		"":                            "",
		"1000940000":                  "",
		"2000-1000":                   "",
		"1000940000/10000,bogus/1000": "",
	} {
		rs, err := openshift.ParseIDRanges(in)
		got := ""
		if err == nil {
			got = openshift.FormatRanges(rs)
		}
		if got != want {
			t.Errorf("ParseIDRanges(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}
