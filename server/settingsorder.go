package server

import (
	"sync"

	"go.lsp.dev/protocol"
)

// settingsOrder numbers settings events: a didChangeConfiguration push when it is handled, a
// workspace/configuration pull when its request is sent (the client answers with the settings
// of that moment).
type settingsOrder struct {
	mu      sync.Mutex
	issued  uint64
	applied uint64
}

// nextSettingsSeq numbers a new settings event.
func (s *Server) nextSettingsSeq() uint64 {
	o := &s.settingsOrder
	o.mu.Lock()
	defer o.mu.Unlock()
	o.issued++
	return o.issued
}

// applySettingsInOrder applies the settings of event seq unless a newer event's settings were
// applied already: the answer to a pull sent before a push must not overwrite the pushed
// settings when it arrives after them.
func (s *Server) applySettingsInOrder(raw []byte, seq uint64) {
	o := &s.settingsOrder
	o.mu.Lock()
	defer o.mu.Unlock()
	if seq <= o.applied {
		s.logf(protocol.MessageTypeLog, "settings: dropped an answer older than the settings in force")
		return
	}
	o.applied = seq
	s.applySettings(raw)
}
