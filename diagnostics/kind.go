package diagnostics

import (
	"bytes"
	"path/filepath"
	"strings"
)

// FileKind is what a file is to the engine.
type FileKind string

const (
	KindUnknown      FileKind = ""
	KindDockerfile   FileKind = "dockerfile"
	KindManifest     FileKind = "manifest"      // Kubernetes/OpenShift objects (YAML or JSON), decided by content
	KindCompose      FileKind = "compose"       // compose.yaml, docker-compose.yml
	KindHelmChart    FileKind = "helm-chart"    // Chart.yaml
	KindHelmValues   FileKind = "helm-values"   // values*.yaml next to a Chart.yaml
	KindHelmTemplate FileKind = "helm-template" // templates/** of a chart
	KindKustomize    FileKind = "kustomize"     // kustomization.yaml
	KindSkaffold     FileKind = "skaffold"      // skaffold.yaml, and any YAML with a skaffold/ apiVersion
	KindBake         FileKind = "bake"          // docker-bake.hcl / docker-bake.json
	KindConfig       FileKind = ConfigFileName  // .nonroot-ls.yaml
)

// CI and dev-loop files that build images (link sources of the workspace graph).
const (
	KindWorkflow FileKind = "github-workflow" // .github/workflows/*.yml
	KindGitLabCI FileKind = "gitlab-ci"       // .gitlab-ci.yml
	KindTiltfile FileKind = "tiltfile"        // Tiltfile
)

// ConfigFileName is the project configuration file's name.
const ConfigFileName = ".nonroot-ls.yaml"

// IsDockerfileName reports whether base is a Dockerfile's name: Dockerfile, Containerfile,
// *.Dockerfile, *.dockerfile, Dockerfile.*, Containerfile.*.
func IsDockerfileName(base string) bool {
	lower := strings.ToLower(base)
	switch {
	case lower == "dockerfile" || lower == "containerfile":
		return true
	case strings.HasSuffix(lower, ".dockerfile") || strings.HasSuffix(lower, ".containerfile"):
		return true
	case strings.HasPrefix(lower, "dockerfile.") || strings.HasPrefix(lower, "containerfile."):
		return true
	}
	return false
}

// DetectKind decides what a file is from its path, the editor's language ID (may be empty),
// its content, and the directory of the Helm chart that holds it ("" when none). YAML and
// JSON files are manifests only when their content says so (apiVersion and kind), never by
// name alone.
func DetectKind(path, languageID string, content []byte, chartRoot string) FileKind {
	base := filepath.Base(path)
	lower := strings.ToLower(base)
	if languageID == "dockerfile" || languageID == "containerfile" || IsDockerfileName(base) {
		return KindDockerfile
	}
	ext := strings.ToLower(filepath.Ext(base))
	switch lower {
	case ConfigFileName:
		return KindConfig
	case "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml":
		return KindCompose
	case "chart.yaml":
		return KindHelmChart
	case "kustomization.yaml", "kustomization.yml":
		return KindKustomize
	case "skaffold.yaml", "skaffold.yml":
		return KindSkaffold
	case "docker-bake.hcl", "docker-bake.json", "docker-bake.override.hcl", "docker-bake.override.json":
		return KindBake
	case ".gitlab-ci.yml", ".gitlab-ci.yaml":
		return KindGitLabCI
	case "tiltfile":
		return KindTiltfile
	}
	if (ext == ".yaml" || ext == ".yml") && filepath.Base(filepath.Dir(path)) == "workflows" && filepath.Base(filepath.Dir(filepath.Dir(path))) == ".github" {
		return KindWorkflow
	}
	if strings.HasPrefix(lower, "compose.") || strings.HasPrefix(lower, "docker-compose.") {
		if ext == ".yaml" || ext == ".yml" {
			return KindCompose
		}
	}
	if chartRoot != "" {
		rel, _ := filepath.Rel(chartRoot, path)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(rel, "templates/"):
			return KindHelmTemplate
		case !strings.Contains(rel, "/") && strings.HasPrefix(lower, "values") && (ext == ".yaml" || ext == ".yml"):
			return KindHelmValues
		}
	}
	if ext == ".yaml" || ext == ".yml" || ext == ".json" || languageID == "yaml" || languageID == "json" {
		if LooksLikeManifest(content) {
			if skaffoldAPI(content) {
				return KindSkaffold // a config that skaffold.yaml `requires:`, or skaffold-*.yaml
			}
			return KindManifest
		}
	}
	return KindUnknown
}

// LooksLikeManifest reports whether content has top-level apiVersion and kind keys (YAML or JSON).
// The Kubernetes model refines this; it is the cheap content test used to classify files.
func LooksLikeManifest(content []byte) bool {
	if t := bytes.TrimLeft(content, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		// JSON, possibly on one line: the keys can be anywhere.
		return jsonHasKey(content, "apiVersion") && jsonHasKey(content, "kind")
	}
	hasKey := func(key string) bool {
		for line := range bytes.Lines(content) {
			t := bytes.TrimLeft(line, " \t-{")
			t = bytes.TrimPrefix(t, []byte(`"`))
			if bytes.HasPrefix(t, []byte(key)) {
				rest := bytes.TrimLeft(t[len(key):], `" `)
				if len(rest) > 0 && rest[0] == ':' {
					return true
				}
			}
		}
		return false
	}
	return hasKey("apiVersion") && hasKey("kind")
}

// skaffoldAPI reports whether a YAML document of content has a top-level `apiVersion:
// skaffold/…`.
func skaffoldAPI(content []byte) bool {
	for line := range bytes.Lines(content) {
		if rest, ok := bytes.CutPrefix(line, []byte("apiVersion:")); ok {
			if bytes.HasPrefix(bytes.Trim(bytes.TrimSpace(rest), `"'`), []byte("skaffold/")) {
				return true
			}
		}
	}
	return false
}

// jsonHasKey reports whether "key" followed by a colon occurs in content.
func jsonHasKey(content []byte, key string) bool {
	q := []byte(`"` + key + `"`)
	for rest := content; ; {
		i := bytes.Index(rest, q)
		if i < 0 {
			return false
		}
		rest = rest[i+len(q):]
		if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) > 0 && t[0] == ':' {
			return true
		}
	}
}
