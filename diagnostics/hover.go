package diagnostics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/text"
)

// Hover is Markdown about a range of a file.
type Hover struct {
	Range    text.Range
	Markdown string
}

// Hover returns what to show at pos in path: the documentation of findings there, then what
// the file's model says about the thing under the cursor. Nil when there is nothing, or when
// ctx is cancelled.
func (s *Snapshot) Hover(ctx context.Context, path string, pos text.Pos) *Hover {
	f, err := s.File(path)
	if err != nil {
		return nil
	}
	var parts []string
	var rng text.Range
	for _, fd := range s.Diagnose(ctx, path) {
		if fd.Range.Contains(pos) {
			parts = append(parts, s.eng.FindingMarkdown(fd))
			if rng.IsZero() {
				rng = fd.Range
			}
		}
	}
	for _, fn := range s.eng.hover[f.Kind] {
		if ctx.Err() != nil {
			return nil
		}
		if h := s.safeHover(ctx, fn, f, pos); h != nil && h.Markdown != "" {
			parts = append(parts, h.Markdown)
			if rng.IsZero() {
				rng = h.Range
			}
		}
	}
	if len(parts) == 0 || ctx.Err() != nil {
		return nil
	}
	return &Hover{Range: rng, Markdown: strings.Join(parts, "\n\n---\n\n")}
}

func (s *Snapshot) safeHover(ctx context.Context, fn HoverFunc, f *File, pos text.Pos) (h *Hover) {
	defer func() {
		if v := recover(); v != nil {
			s.eng.recovered("hover on "+f.Path, v)
			h = nil
		}
	}()
	return fn(ctx, s, f, pos)
}

// FindingMarkdown is the hover text of a finding: the message, then the rule's why, what
// happens at runtime, how to fix, and a link to its page.
func (e *Engine) FindingMarkdown(fd Finding) string {
	var b bytes.Buffer
	r := e.RuleByID(fd.RuleID)
	if r == nil {
		fmt.Fprintf(&b, "**%s** %s", fd.RuleID, fd.Message)
		return b.String()
	}
	fmt.Fprintf(&b, "**%s: %s** (%s)\n\n%s\n", r.ID, r.Title, fd.Severity, fd.Message)
	if r.Doc.Why != "" {
		fmt.Fprintf(&b, "\n**Why:** %s\n", r.Doc.Why)
	}
	if r.Doc.Runtime != "" {
		fmt.Fprintf(&b, "\n**At runtime:** %s\n", r.Doc.Runtime)
	}
	if r.Doc.Fix != "" {
		fmt.Fprintf(&b, "\n**Fix:** %s\n", r.Doc.Fix)
	}
	if r.Doc.Source != "" {
		fmt.Fprintf(&b, "\n> %s\n", r.Doc.Source)
	}
	fmt.Fprintf(&b, "\n[%s documentation](%s)", r.ID, r.DocURL())
	return b.String()
}

// Inspect returns the model of path as the engine sees it (JSON-serialisable), or nil when
// no group inspects its kind.
func (s *Snapshot) Inspect(ctx context.Context, path string) (any, error) {
	f, err := s.File(path)
	if err != nil {
		return nil, err
	}
	fn := s.eng.inspect[f.Kind]
	if fn == nil {
		return nil, nil
	}
	v := fn(ctx, s, f)
	for _, an := range s.eng.annotate {
		if key, val := an(s, f); key != "" && v != nil {
			v = annotate(v, key, val)
		}
	}
	return v, nil
}

// annotate returns v (as JSON) with "key": val added, keeping the model's key order.
func annotate(v any, key string, val any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	kv, err := json.Marshal(map[string]any{key: val})
	if err != nil {
		return v
	}
	entry := kv[1 : len(kv)-1]
	addTo := func(obj []byte) []byte {
		obj = bytes.TrimSpace(obj)
		if len(obj) < 2 || obj[0] != '{' {
			return obj
		}
		body := bytes.TrimSpace(obj[1 : len(obj)-1])
		out := append([]byte{'{'}, body...)
		if len(body) > 0 {
			out = append(out, ',')
		}
		out = append(out, entry...)
		return append(out, '}')
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '{':
		return json.RawMessage(addTo(data))
	case len(data) > 0 && data[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(data, &elems) != nil {
			return v
		}
		for i := range elems {
			elems[i] = addTo(elems[i])
		}
		out, err := json.Marshal(elems)
		if err != nil {
			return v
		}
		return json.RawMessage(out)
	}
	return v
}
