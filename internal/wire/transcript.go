package wire

import "sync"

// Transcript limits keep a hostile server from growing memory through it.
const (
	maxTranscriptLines = 400
	maxTranscriptLine  = 512
)

// Transcript records a protocol conversation for people to read. Client lines
// that carry credentials are recorded in redacted form by the protocol
// clients; as a second guard every line is redacted by the test's Secrets
// before it is kept (and again when a Result is made, by then knowing every
// secret of the test).
type Transcript struct {
	mu      sync.Mutex
	lines   []string
	dropped int
	secrets *Secrets
	// ownSecrets is where secrets are kept unless a fork shares
	// another's: a transcript is made for every test, and a Secrets of
	// its own was one of its allocations (BenchmarkTestPath). Its first
	// lines go where Room says, in the same allocation as the test's
	// trace (probe.Trace, sized to the check).
	ownSecrets Secrets
}

// Room has the transcript keep its first cap(buf) lines in buf, before
// it allocates; called before any line is recorded, else a no-op.
func (t *Transcript) Room(buf []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines == nil {
		t.lines = buf[:0]
	}
}

// Redacted is what stands in a transcript where a secret was.
const Redacted = "[redacted]"

// Secrets returns the redactor of the test the transcript belongs to.
func (t *Transcript) Secrets() *Secrets {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.secrets == nil {
		t.secrets = &t.ownSecrets
	}
	return t.secrets
}

// Fork returns an empty transcript of the same test: it shares the secrets,
// so that what either registers is redacted from both (a round trip records
// each look into the mailbox apart, and keeps only those that matter).
func (t *Transcript) Fork() *Transcript { return &Transcript{secrets: t.Secrets()} }

// AddSecret registers a value that must never appear in the transcript, nor
// anywhere else the test's Secrets redact.
func (t *Transcript) AddSecret(s string) { t.Secrets().Add(s) }

// Client records a line the client sent.
func (t *Transcript) Client(line string) { t.add("C: ", line) }

// Server records a line the server sent.
func (t *Transcript) Server(line string) { t.add("S: ", line) }

// Note records an event that is not protocol text (a TLS handshake, a timeout).
func (t *Transcript) Note(line string) { t.add("-- ", line) }

func (t *Transcript) add(prefix, line string) { t.record(prefix, line, "") }

// NoteBytes records b as Note does, in one allocation: b is made into
// the recorded line with its prefix, not into a string first.
func (t *Transcript) NoteBytes(b []byte) {
	if t == nil {
		return
	}
	rec := "-- " + string(b)
	t.record("-- ", rec[3:], rec)
}

// serverLine records a line the server sent (b, its line ending removed)
// and returns it as a string. When the transcript keeps it as it came, as
// nearly always, the string returned is the recorded one without its
// prefix: one allocation a line, not two.
func (t *Transcript) serverLine(b []byte) string {
	if t == nil {
		return string(b)
	}
	rec := "S: " + string(b)
	t.record("S: ", rec[3:], rec)
	return rec[3:]
}

// record keeps prefix+line, redacted and truncated; rec, when not "", is
// prefix+line already made, kept as it is when nothing was cut.
func (t *Transcript) record(prefix, line, rec string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) >= maxTranscriptLines {
		t.dropped++
		return
	}
	if kept := Truncate(t.secrets.Redact(line), maxTranscriptLine); rec == "" || kept != line {
		rec = prefix + kept
	}
	t.lines = append(t.lines, rec)
}

// Lines returns a copy of the recorded lines.
func (t *Transcript) Lines() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.lines)
	if t.dropped > 0 {
		n++
	}
	if n == 0 {
		return nil
	}
	out := append(make([]string, 0, n), t.lines...)
	if t.dropped > 0 {
		out = append(out, "-- transcript truncated")
	}
	return out
}
