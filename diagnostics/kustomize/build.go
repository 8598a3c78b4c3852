package kustomize

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"time"
)

// Build bounds. A build that exceeds them is reported on the kustomization instead of judged.
var (
	// BuildTimeout bounds one build. A builder stops a build that runs over (the helper
	// process is killed) and the kustomization is reported.
	BuildTimeout = 3 * time.Second
	// MaxBuiltBytes bounds the size of a build's output.
	MaxBuiltBytes = 16 << 20
	// MaxInputBytes bounds the files a build reads.
	MaxInputBytes = 32 << 20
)

// BuildRequest is one `kustomize build` as plain data, so that it can cross the boundary to
// the process that runs kustomize's engine.
type BuildRequest struct {
	// Files are the files the build may read, by slash path relative to the workspace root.
	// Kustomizations come with their remote resources, Helm charts and plugins taken out.
	Files map[string]string `json:"files"`
	// Dir is the build root's folder (slash path relative to the workspace root, "." for it).
	Dir string `json:"dir"`
	// Timeout bounds the build (BuildTimeout when zero).
	Timeout time.Duration `json:"timeout,omitempty"`
}

// BuildResponse is a builder's answer on the wire: the built objects as YAML documents (with
// kustomize's origin annotations), or why the build failed.
type BuildResponse struct {
	YAML string `json:"yaml,omitempty"`
	Err  string `json:"error,omitempty"`
}

// BuildFunc builds a kustomization with kustomize's engine: the built objects as one YAML
// stream, or kustomize's error. It never runs a program, fetches a remote base or runs a
// plugin.
type BuildFunc func(ctx context.Context, req *BuildRequest) (string, error)

// Result is the outcome of one build.
type Result struct {
	YAML    string
	Err     string // kustomize's error, or why the build was stopped
	Elapsed time.Duration
}

// buildCacheSize bounds the builds an engine keeps.
const buildCacheSize = 64

// run builds req with fn (nil: no builder installed), bounded by BuildTimeout; nil when ctx
// is cancelled first. Results are kept by the request's content in the engine's state.
func (st *state) run(ctx context.Context, req *BuildRequest) *Result {
	v, ok := st.builds.Get(ctx, requestKey(req), func(ctx context.Context) (any, bool) {
		r := runBuild(ctx, st.build, req)
		return r, r != nil
	})
	if !ok {
		return nil
	}
	return v.(*Result)
}

func requestKey(req *BuildRequest) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", req.Dir)
	names := make([]string, 0, len(req.Files))
	for k := range req.Files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", n, len(req.Files[n]), req.Files[n])
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func runBuild(parent context.Context, fn BuildFunc, req *BuildRequest) *Result {
	start := time.Now()
	type answer struct {
		out string
		err error
	}
	ch := make(chan answer, 1)
	ctx, cancel := context.WithTimeout(parent, BuildTimeout)
	defer cancel()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- answer{err: fmt.Errorf("kustomize failed: %v", v)}
			}
		}()
		if fn == nil {
			ch <- answer{err: fmt.Errorf("the kustomization is not built: this program has no kustomize builder installed")}
			return
		}
		out, err := fn(ctx, req)
		ch <- answer{out, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		if parent.Err() != nil {
			return nil
		}
		a.err = fmt.Errorf("building the kustomization took longer than %s and was stopped (a loop in its bases?)", BuildTimeout)
	}
	if parent.Err() != nil {
		return nil
	}
	r := &Result{Elapsed: time.Since(start)}
	switch {
	case a.err != nil:
		r.Err = a.err.Error()
	case len(a.out) > MaxBuiltBytes:
		r.Err = fmt.Sprintf("the built objects exceed %d MiB; not analysed", MaxBuiltBytes>>20)
	default:
		r.YAML = a.out
	}
	return r
}
