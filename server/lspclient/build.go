package lspclient

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Build builds nonroot-ls and its Helm helper, nonroot-ls-helm, into dir (the helper must sit
// next to nonroot-ls) and returns nonroot-ls's path. Run it from inside the module.
func Build(dir string) (string, error) {
	out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/nonroot-ls/nonroot-ls/cmd/nonroot-ls", "github.com/nonroot-ls/nonroot-ls/cmd/nonroot-ls-helm").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/nonroot-ls ./cmd/nonroot-ls-helm: %v\n%s", err, out)
	}
	return filepath.Join(dir, "nonroot-ls"), nil
}
