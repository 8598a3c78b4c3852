package server

import (
	"context"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nonroot-ls/nonroot-ls/diagnostics"
)

// publisher sends textDocument/publishDiagnostics from one goroutine, so the read loop never
// waits for the rules. After each change it diagnoses every open document of the newest
// state: the changed documents first (always published, with their version), then the
// others, which are published only when their diagnostics differ from what the client
// already has, then (scope "workspace", see workspacepublish.go) the workspace's files that
// are not open. A newer change interrupts a run between documents.
type publisher struct {
	s    *Server
	kick chan struct{}
	done chan struct{}

	mu     sync.Mutex
	st     *state                           // newest state to publish
	first  []string                         // changed documents since the last run, in order
	clears []closedDoc                      // closed documents whose diagnostics to clear
	last   map[string][]protocol.Diagnostic // path → diagnostics last published
	busy   map[string]bool                  // documents whose diagnosis overran its budget and still runs
	late   map[string]late                  // results of overrunning diagnoses, used if the state is unchanged
	budget time.Duration                    // how long one document's diagnosis may hold up the others
	buf    []byte                           // the last publication's encoding (see send)

	indexed    bool            // the first workspace scan has ended (workspacepublish.go)
	workspace  map[string]bool // files not open whose diagnostics publishWorkspace published
	reopened   map[string]bool // closed documents publishWorkspace must publish from disk
	warnedSize bool            // the "too many files for the workspace scope" message was logged
}

// closedDoc is a document closed since the last run, with what was last published for it.
type closedDoc struct {
	uri  uri.URI
	path string
	last []protocol.Diagnostic
}

// maxKeptBuffer bounds the encoding buffer the publisher keeps between publications.
const maxKeptBuffer = 4 << 20

func newPublisher(s *Server) *publisher {
	return &publisher{s: s, kick: make(chan struct{}, 1), done: make(chan struct{}), last: map[string][]protocol.Diagnostic{}, busy: map[string]bool{}, late: map[string]late{}, budget: 10 * time.Second,
		workspace: map[string]bool{}, reopened: map[string]bool{}}
}

// changed schedules a publication for st; paths are the documents that changed (nil when
// the change is global: settings, folders, a closed file others may depend on).
func (p *publisher) changed(st *state, paths []string) {
	p.mu.Lock()
	if p.st == nil || st.seq >= p.st.seq {
		p.st = st
	}
	for _, x := range paths {
		if !slices.Contains(p.first, x) {
			p.first = append(p.first, x)
		}
	}
	p.mu.Unlock()
	p.poke()
}

// closed schedules clearing the diagnostics of a closed document.
func (p *publisher) closed(u uri.URI, path string) {
	p.mu.Lock()
	p.clears = append(p.clears, closedDoc{u, path, p.last[path]})
	delete(p.last, path)
	delete(p.workspace, path)
	delete(p.reopened, path)
	p.first = slices.DeleteFunc(p.first, func(x string) bool { return x == path })
	p.mu.Unlock()
	p.poke()
}

func (p *publisher) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *publisher) run(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		p.once(ctx)
	}
}

func (p *publisher) wait() { <-p.done }

// once publishes the newest state; it returns early (re-poking itself) when a newer state
// arrives between two documents.
func (p *publisher) once(ctx context.Context) {
	p.mu.Lock()
	st, first, clears := p.st, p.first, p.clears
	p.first, p.clears = nil, nil
	p.mu.Unlock()
	for _, c := range clears {
		if st != nil && p.keepClosed(st, c) {
			continue
		}
		p.send(ctx, &protocol.PublishDiagnosticsParams{URI: c.uri, Diagnostics: []protocol.Diagnostic{}})
	}
	if st == nil {
		return
	}
	order := make([]string, 0, len(st.docs))
	for _, x := range first {
		if st.docs[x] != nil {
			order = append(order, x)
		}
	}
	order = appendDependents(order, st, first)
	for _, x := range st.openPaths() {
		if !slices.Contains(order, x) {
			order = append(order, x)
		}
	}
	for i, path := range order {
		if ctx.Err() != nil {
			return
		}
		if i > 0 && p.superseded(st) {
			// Keep the changed documents we did not reach for the next run.
			p.mu.Lock()
			for _, x := range first {
				if slices.Index(order, x) >= i && !slices.Contains(p.first, x) {
					p.first = append(p.first, x)
				}
			}
			p.mu.Unlock()
			p.poke()
			return
		}
		d := st.docs[path]
		if d == nil {
			p.publishIndexed(ctx, st, path)
			continue
		}
		ds, ok := p.diagnoseWithin(ctx, st, path)
		if !ok {
			continue
		}
		params := &protocol.PublishDiagnosticsParams{URI: d.uri, Version: protocol.NewOptional(d.version), Diagnostics: ds}
		// Compared as values, not encoded: encoding a large file's diagnostics costs more
		// than the comparison, and sending encodes them anyway.
		p.mu.Lock()
		changed := slices.Contains(first, path) || !reflect.DeepEqual(p.last[path], ds)
		p.mu.Unlock()
		if !changed {
			continue
		}
		if p.send(ctx, params) {
			p.mu.Lock()
			if p.s.current().docs[path] != nil {
				p.last[path] = ds
			}
			p.mu.Unlock()
		}
	}
	p.publishWorkspace(ctx, st, len(first) > 0)
}

type late struct {
	st *state
	ds []protocol.Diagnostic
}

// diagnoseWithin diagnoses path, giving up after the budget so one pathological document
// cannot hold up the others: the overrunning diagnosis finishes in the background (its
// result is dropped), the document is skipped until it does, then published afresh.
func (p *publisher) diagnoseWithin(ctx context.Context, st *state, path string) ([]protocol.Diagnostic, bool) {
	p.mu.Lock()
	busy, l := p.busy[path], p.late[path]
	delete(p.late, path)
	p.mu.Unlock()
	if busy {
		return nil, false
	}
	if l.st == st {
		return l.ds, true
	}
	res := make(chan []protocol.Diagnostic, 1)
	go func() { res <- p.s.diagnose(ctx, st, path) }()
	timer := time.NewTimer(p.budget)
	defer timer.Stop()
	select {
	case ds := <-res:
		return ds, true
	case <-timer.C:
	}
	p.s.logf(protocol.MessageTypeWarning, "diagnosing %s takes longer than %v: skipping it until it finishes", path, p.budget)
	p.mu.Lock()
	p.busy[path] = true
	p.mu.Unlock()
	go func() {
		ds := <-res
		p.mu.Lock()
		delete(p.busy, path)
		p.late[path] = late{st, ds}
		p.first = append(p.first, path)
		p.mu.Unlock()
		p.poke()
	}()
	return nil, false
}

func (p *publisher) superseded(st *state) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st != st
}

// send publishes params. They are encoded into a buffer kept between publications (only
// the publisher's goroutine sends, and the connection copies what it writes): a large file's
// diagnostics take hundreds of KiB, and growing a new buffer each time costs more than
// encoding them.
func (p *publisher) send(ctx context.Context, params *protocol.PublishDiagnosticsParams) bool {
	buf, err := protocol.AppendMarshal(p.buf[:0], params)
	if err != nil {
		p.s.logf(protocol.MessageTypeError, "encoding the diagnostics of %s: %v", params.URI, err)
		return false
	}
	if cap(buf) <= maxKeptBuffer {
		p.buf = buf
	}
	if err := p.s.conn.Notify(ctx, protocol.MethodTextDocumentPublishDiagnostics, jsonrpc2.RawMessage(buf)); err != nil {
		if ctx.Err() == nil { // not the connection ending
			p.s.logf(protocol.MessageTypeLog, "publishDiagnostics %s: %v", params.URI, err)
		}
		return false
	}
	return true
}

// diagnose returns the LSP diagnostics of an open document; a panic in the engine becomes
// a log message and no diagnostics (the server and the other documents carry on).
func (s *Server) diagnose(ctx context.Context, st *state, path string) (out []protocol.Diagnostic) {
	out = []protocol.Diagnostic{}
	defer func() {
		if v := recover(); v != nil {
			s.logf(protocol.MessageTypeError, "diagnosing %s: panic: %v\n%s", path, v, debug.Stack())
			out = []protocol.Diagnostic{}
		}
	}()
	fs := st.snap.Diagnose(ctx, path)
	out = make([]protocol.Diagnostic, 0, len(fs))
	for _, f := range fs {
		if f.File != path {
			continue
		}
		out = append(out, s.toDiagnostic(st, f))
	}
	return out
}

// toDiagnostic converts a finding to an LSP diagnostic in the negotiated encoding.
func (s *Server) toDiagnostic(st *state, f diagnostics.Finding) protocol.Diagnostic {
	enc := s.client.enc
	d := protocol.Diagnostic{
		Range:    enc.fromRange(st.linesFor(f.File), f.Range),
		Severity: protocol.DiagnosticSeverity(f.Severity),
		Code:     protocol.String(f.RuleID),
		Source:   protocol.NewOptional(Name),
		Message:  protocol.String(f.Message),
	}
	if d.Severity == 0 {
		d.Severity = protocol.DiagnosticSeverityError
	}
	if r := st.snap.Engine().RuleByID(f.RuleID); r != nil {
		if u, err := uri.Parse(r.DocURL()); err == nil {
			d.CodeDescription = protocol.CodeDescription{Href: u}
		}
	}
	for _, rel := range f.Related {
		d.RelatedInformation = append(d.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: st.uriFor(rel.File), Range: enc.fromRange(st.linesFor(rel.File), rel.Range)},
			Message:  rel.Message,
		})
	}
	return d
}
