package diagnostics

import (
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// gitignore is the parsed .gitignore of one directory. Walk stacks the files from the root
// down to the directory it is in; the last rule that matches a path decides, as in git.
type gitignore struct {
	dir   string // absolute directory holding the .gitignore
	rules []ignoreRule
}

type ignoreRule struct {
	pattern  string
	negate   bool // "!pattern" re-includes
	dirOnly  bool // "pattern/" matches directories only
	anchored bool // the pattern has a slash before its end: matched against the path from dir
}

// maxGitignoreRules bounds one .gitignore file.
const maxGitignoreRules = 10000

func parseGitignore(dir, content string) *gitignore {
	g := &gitignore{dir: dir}
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasSuffix(line, `\ `) {
			line = strings.TrimRight(line[:len(line)-2], " ") + " "
		} else {
			line = strings.TrimRight(line, " \t")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if strings.Contains(line, "/") {
			r.anchored = true
			line = strings.TrimPrefix(line, "/")
		}
		if line == "" || !doublestar.ValidatePattern(line) {
			continue
		}
		r.pattern = line
		if g.rules = append(g.rules, r); len(g.rules) >= maxGitignoreRules {
			break
		}
	}
	return g
}

// match reports whether path (absolute, below g.dir) is ignored or re-included by g; decided
// is false when no rule matches.
func (g *gitignore) match(path string, isDir bool) (ignored, decided bool) {
	rel, err := filepath.Rel(g.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false, false
	}
	rel = filepath.ToSlash(rel)
	base := rel[strings.LastIndexByte(rel, '/')+1:]
	for i := len(g.rules) - 1; i >= 0; i-- {
		r := g.rules[i]
		if r.dirOnly && !isDir {
			continue
		}
		subject := base
		if r.anchored {
			subject = rel
		}
		if ok, _ := doublestar.Match(r.pattern, subject); ok {
			return !r.negate, true
		}
	}
	return false, false
}

// gitignored reports whether the stack of .gitignore files (root first) ignores path.
func gitignored(stack []*gitignore, path string, isDir bool) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		if ignored, decided := stack[i].match(path, isDir); decided {
			return ignored
		}
	}
	return false
}
