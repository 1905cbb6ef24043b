package wire

import (
	"strings"
	"sync"
)

// Transcript limits keep a hostile server from growing memory through it.
const (
	maxTranscriptLines = 400
	maxTranscriptLine  = 512
)

// Transcript records a protocol conversation for people to read. Client lines
// that carry credentials are recorded in redacted form by the protocol
// clients; as a second guard every registered secret is scrubbed from every
// line before it is kept.
type Transcript struct {
	mu      sync.Mutex
	lines   []string
	dropped int
	secrets []string
}

// Redacted is what stands in a transcript where a secret was.
const Redacted = "[redacted]"

// AddSecret registers a value that must never appear in the transcript.
func (t *Transcript) AddSecret(s string) {
	if t == nil || len(s) < 3 {
		return
	}
	t.mu.Lock()
	t.secrets = append(t.secrets, s)
	t.mu.Unlock()
}

// Client records a line the client sent.
func (t *Transcript) Client(line string) { t.add("C: ", line) }

// Server records a line the server sent.
func (t *Transcript) Server(line string) { t.add("S: ", line) }

// Note records an event that is not protocol text (a TLS handshake, a timeout).
func (t *Transcript) Note(line string) { t.add("-- ", line) }

func (t *Transcript) add(prefix, line string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines == nil {
		t.lines = make([]string, 0, 32)
	}
	if len(t.lines) >= maxTranscriptLines {
		t.dropped++
		return
	}
	line = Sanitize(line)
	for _, s := range t.secrets {
		line = strings.ReplaceAll(line, s, Redacted)
	}
	t.lines = append(t.lines, prefix+Truncate(line, maxTranscriptLine))
}

// Lines returns a copy of the recorded lines.
func (t *Transcript) Lines() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if t.dropped > 0 {
		out = append(out, "-- transcript truncated")
	}
	return out
}
