package workspace

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"go.yaml.in/yaml/v3"
)

// Use is a place that runs an image: a container of a manifest's pod template, or a compose
// service.
type Use struct {
	File      string
	Kind      diagnostics.FileKind // KindManifest or KindCompose
	Image     string               // as written (compose: interpolated)
	Range     text.Range           // the image value (compose service built without image: its build key)
	Container string               // container name, or compose service name
	Service   *Service             // the compose service (nil for manifests)
	Link      *Link                // what the graph linked it to (nil: no link)

	resolved bool     // the graph has looked for its link
	amb      []string // the heuristic's candidates when it could not decide
}

type usesKey struct{}

// manifestUses returns the container images of every pod template in a manifest file: any
// `containers`, `initContainers` or `ephemeralContainers` list, in any object (workloads,
// List items, OpenShift Template objects, custom resources that embed a pod spec).
func manifestUses(f *diagnostics.File) []Use {
	return f.Memo(usesKey{}, func() any {
		docs, _ := parseYAML(f.Text)
		var out []Use
		budget := maxNodes
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n == nil || budget <= 0 {
				return
			}
			budget--
			switch n.Kind {
			case yaml.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i], n.Content[i+1]
					switch k.Value {
					case "containers", "initContainers", "ephemeralContainers":
						if v.Kind == yaml.SequenceNode {
							for _, c := range v.Content {
								img, _ := get(c, "image")
								if img != nil && img.Kind == yaml.ScalarNode && img.Value != "" {
									name, _ := get(c, "name")
									out = append(out, Use{File: f.Path, Kind: diagnostics.KindManifest, Image: img.Value,
										Range: nodeRange(f.Lines(), img), Container: str(name)})
								}
							}
							continue
						}
					}
					walk(v)
				}
			case yaml.SequenceNode, yaml.DocumentNode:
				for _, c := range n.Content {
					walk(c)
				}
			}
		}
		for _, d := range docs {
			walk(d)
		}
		return out
	}).([]Use)
}
