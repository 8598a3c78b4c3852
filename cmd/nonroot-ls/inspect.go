package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

func inspect(eng *diagnostics.Engine, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("inspect", stderr)
	format := fs.String("format", "text", "output format: text or json")
	perFile := fs.Bool("files", false, "for directories, print each file's model instead of the image → Dockerfile links")
	paths, err := parse(fs, args)
	if err != nil {
		return 2
	}
	onlyDirs := true
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			onlyDirs = false
		}
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "nonroot-ls inspect: --format: unknown format %q (want text or json)\n", *format)
		return 2
	}
	w, err := load(eng, paths, diagnostics.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "nonroot-ls inspect: %v\n", err)
		return 2
	}
	if onlyDirs && !*perFile {
		return inspectLinks(w, *format, stdout, stderr)
	}
	var models []json.RawMessage
	var names []string
	for _, path := range w.files {
		v, err := w.snap.Inspect(context.Background(), path)
		if err != nil {
			fmt.Fprintf(stderr, "nonroot-ls inspect: %v\n", err)
			return 2
		}
		if v == nil {
			continue
		}
		m, err := withFile(v, w.rel(path))
		if err != nil {
			fmt.Fprintf(stderr, "nonroot-ls inspect: %s: %v\n", w.rel(path), err)
			return 2
		}
		models = append(models, m)
		names = append(names, w.rel(path))
	}
	if *format == "json" {
		var out any = models
		if len(models) == 1 {
			out = models[0]
		} else if models == nil {
			out = []json.RawMessage{}
		}
		return printInspectJSON(out, stdout, stderr)
	}
	if len(models) == 0 {
		fmt.Fprintf(stdout, "no models in %d file(s)\n", len(w.files))
		return 0
	}
	for i, m := range models {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s\n", names[i])
		var v any
		json.Unmarshal(m, &v)
		flatten(stdout, "  ", "", v)
	}
	return 0
}

// printInspectJSON prints v as indented JSON; it returns the exit code.
func printInspectJSON(v any, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "nonroot-ls inspect: %v\n", err)
		return 2
	}
	return 0
}

// inspectLinks prints the workspace's image → Dockerfile links with their evidence: what
// `inspect` shows for directories.
func inspectLinks(w *workspace, format string, stdout, stderr io.Writer) int {
	links := []any{}
	for _, v := range w.snap.InspectWorkspace() {
		data, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintf(stderr, "nonroot-ls inspect: %v\n", err)
			return 2
		}
		var items []any
		if json.Unmarshal(data, &items) == nil {
			links = append(links, items...)
		} else {
			links = append(links, v)
		}
	}
	if format == "json" {
		return printInspectJSON(links, stdout, stderr)
	}
	if len(links) == 0 {
		fmt.Fprintf(stdout, "no image → Dockerfile links in %d file(s) (inspect --files for each file's model)\n", len(w.files))
		return 0
	}
	for i, l := range links {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "link %d\n", i+1)
		flatten(stdout, "  ", "", l)
	}
	return 0
}

// withFile returns v as JSON with "file" set to the path as given on the command line
// (relative to the working directory) when v is an object.
func withFile(v any, rel string) (json.RawMessage, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	f, _ := json.Marshal(rel)
	obj["file"] = f
	// Keep "file" first, the rest in the model's own order.
	var b bytes.Buffer
	b.WriteString(`{"file":`)
	b.Write(f)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		if k == "file" {
			continue
		}
		kb, _ := json.Marshal(k)
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// flatten prints a JSON value as "key.sub: value" lines.
func flatten(out io.Writer, indent, prefix string, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			fmt.Fprintf(out, "%s%s: {}\n", indent, prefix)
		}
		for _, k := range keys {
			if k == "file" && prefix == "" {
				continue
			}
			flatten(out, indent, join(prefix, k), x[k])
		}
	case []any:
		if len(x) == 0 {
			fmt.Fprintf(out, "%s%s: []\n", indent, prefix)
		}
		for i, e := range x {
			flatten(out, indent, fmt.Sprintf("%s[%d]", prefix, i), e)
		}
	case nil:
		fmt.Fprintf(out, "%s%s: null\n", indent, prefix)
	default:
		b, _ := json.Marshal(x)
		s := string(b)
		if str, ok := x.(string); ok && !strings.ContainsAny(str, "\n\"") {
			s = str
		}
		fmt.Fprintf(out, "%s%s: %s\n", indent, prefix, s)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
