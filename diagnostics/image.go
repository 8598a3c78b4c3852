package diagnostics

// ImageInfo is what the engine knows of an image that a manifest or compose file runs: who
// it runs as, and whether that comes from a Dockerfile of the workspace (a link) or from the
// image catalog, with the evidence. It is the answer of [Snapshot.Image].
type ImageInfo struct {
	Image string `json:"image"` // as written
	// Source is "workspace" (a Dockerfile of the workspace builds it), "catalog" (a public
	// image the catalog knows) or "unknown".
	Source string `json:"source"`
	// Kind is the user's kind (root, numeric, named, unknown); User describes it ("root (uid
	// 0)", "jenkins (uid 1000)"); UID/GID are its ids when known.
	Kind string `json:"kind"`
	User string `json:"user,omitempty"`
	UID  *int   `json:"uid"`
	GID  *int   `json:"gid"`
	// From says where the user comes from: the Dockerfile line, or the catalog's reason.
	From string `json:"from,omitempty"`
	// Dockerfile (and Target) build it; Link is the link's evidence (a workspace image).
	Dockerfile string `json:"dockerfile,omitempty"`
	Target     string `json:"target,omitempty"`
	Link       string `json:"link,omitempty"`
	// StepDown is what its entrypoint does at runtime, when it switches user (a catalog image).
	StepDown string `json:"stepDown,omitempty"`
	// TagUnknown is set when the catalog does not list the tag: the facts are the
	// repository's default family's.
	TagUnknown bool `json:"tagUnknown,omitempty"`
	// Provenance lists the files the catalog's facts come from ("repo path@commit (role)").
	Provenance []string `json:"provenance,omitempty"`

	// FixUID is the uid a fix writes as runAsUser for this image: the non-root uid it runs as
	// (its user's, the one its Dockerfile creates, the one its entrypoint steps down to), else
	// the configured default; FixNote says why when it is not one the image is prepared for.
	FixUID  int    `json:"-"`
	FixNote string `json:"-"`
	// NeedsRoot is set when the image's entrypoint must start as root (a step-down or a
	// chown it always does): it fails when the container runs non-root.
	NeedsRoot bool `json:"-"`
}

// NonRoot reports whether the image is known to run as a non-root user (nil: not known).
func (i *ImageInfo) NonRoot() bool {
	return i != nil && (i.Kind == "named" || i.Kind == "numeric" && i.UID != nil && *i.UID > 0)
}

// Image returns what is known of the image ref that file runs, as the group that links
// images to Dockerfiles says (nil when no group does).
func (s *Snapshot) Image(file, ref string) *ImageInfo {
	if s.eng.image == nil {
		return nil
	}
	return s.eng.image(s, Clean(file), ref)
}
