package workspace

import (
	"github.com/nonroot-ls/nonroot-ls/diagnostics"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/kube"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
	"github.com/nonroot-ls/nonroot-ls/diagnostics/yamlnode"
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

	resolved bool       // the graph has looked for its link
	amb      *Ambiguity // why it is not linked, when Dockerfiles could build it
}

type usesKey struct{}

// manifestUses returns the container images of every pod template of a manifest file, as
// the workload model reads them (workloads, List items, OpenShift Template objects; init and
// ephemeral containers too), memoised on the file. Ranges are the model's, so a use and the
// container a rule judges are found at the same place.
func manifestUses(f *diagnostics.File) []Use {
	return f.Memo(usesKey{}, func() any {
		m := kube.ForFile(f)
		var out []Use
		for _, w := range m.Workloads {
			for _, c := range w.Containers {
				if c.ImageNode == nil || c.Image == "" {
					continue
				}
				out = append(out, Use{File: f.Path, Kind: diagnostics.KindManifest, Image: c.Image,
					Range: yamlnode.Range(m.Lines, c.ImageNode), Container: c.Name})
			}
		}
		return out
	}).([]Use)
}
