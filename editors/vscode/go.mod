// This file only marks editors/vscode as outside the Go module, so that `go test ./...`
// and `go vet ./...` do not descend into node_modules (some npm packages ship Go files).
module github.com/nonroot-ls/nonroot-ls/editors/vscode

go 1.26
