package main

import (
	"bufio"
	"bytes"
	"strings"
)

// libraryEntry is one block of a docker-library/official-images library file: a set of tags
// built from one folder of one commit of a Git repository.
type libraryEntry struct {
	Tags      []string
	GitRepo   string // owner/name on GitHub ("" when elsewhere)
	GitCommit string
	Directory string
	File      string // the Dockerfile's name (Builder oci-import: the OCI index)
	Builder   string // "" (a Dockerfile) or "oci-import"
	Windows   bool
}

// parseLibrary reads a library file (RFC 2822-like blocks; the first holds the defaults).
// The amd64 values are taken where an entry has per-architecture ones.
func parseLibrary(b []byte) []libraryEntry {
	var blocks []map[string]string
	cur := map[string]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	flush()
	if len(blocks) == 0 {
		return nil
	}
	global := blocks[0]
	if global["tags"] != "" {
		global = map[string]string{} // no defaults block
	} else {
		blocks = blocks[1:]
	}
	get := func(b map[string]string, k string) string {
		for _, key := range []string{"amd64-" + k, k} {
			if v, ok := b[key]; ok {
				return v
			}
		}
		for _, key := range []string{"amd64-" + k, k} {
			if v, ok := global[key]; ok {
				return v
			}
		}
		return ""
	}
	var out []libraryEntry
	for _, b := range blocks {
		if b["tags"] == "" {
			continue
		}
		e := libraryEntry{
			GitRepo:   githubRepo(get(b, "gitrepo")),
			GitCommit: get(b, "gitcommit"),
			Directory: strings.Trim(get(b, "directory"), "/"),
			File:      get(b, "file"),
			Builder:   get(b, "builder"),
		}
		for _, t := range append(splitList(b["tags"]), splitList(b["sharedtags"])...) {
			if !contains(e.Tags, strings.ToLower(t)) {
				e.Tags = append(e.Tags, strings.ToLower(t))
			}
		}
		arch := splitList(b["architectures"])
		if len(arch) == 0 {
			arch = splitList(global["architectures"])
		}
		cons := strings.ToLower(b["constraints"])
		if strings.Contains(cons, "windowsservercore") || strings.Contains(cons, "nanoserver") ||
			len(arch) > 0 && !contains(arch, "amd64") && contains(arch, "windows-amd64") {
			e.Windows = true
		}
		if e.File == "" {
			e.File = "Dockerfile"
		}
		out = append(out, e)
	}
	return out
}

func githubRepo(u string) string {
	u = strings.TrimSuffix(strings.TrimSpace(u), ".git")
	if rest, ok := strings.CutPrefix(u, "https://github.com/"); ok && strings.Count(rest, "/") == 1 {
		return rest
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
