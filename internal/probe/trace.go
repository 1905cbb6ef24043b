package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Phase is the time one step of a test took.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Trace records a test as it runs: the time of each phase, the transcript,
// the TLS session and what was learned of the server.
type Trace struct {
	ctx        context.Context
	start      time.Time
	now        func() time.Time
	Transcript *wire.Transcript

	root   *Trace   // the trace a leg's trace belongs to; itself for a test's trace
	prefix string   // prepended to a leg's phase names and details
	legs   []*Trace // a test's legs, under mu

	mu       sync.Mutex
	phases   []Phase
	tlsState *tls.ConnectionState
	cert     tlsCert
	tlsMode  TLSMode
	authMech string
	details  map[string]any
	// shared: details is the map a Result was given (Result hands it over
	// rather than copy it); a detail recorded after that copies it first.
	shared   bool
	delivery time.Duration
	sasl     sasl.Client // the last SASL client made (SASL), for its OAuth error challenge

	// A test's trace, its transcript and its first lines and phases are
	// one allocation, not three (BenchmarkTestPath), of the size of the
	// check (newTrace).
	transcript wire.Transcript
}

// A trace and the room for its first transcript lines and phases, in one
// allocation: what a test records, unless it records more (then its
// lines and phases grow as a slice does). An SMTP banner test records 8
// lines and 4 phases (a STARTTLS one 16 and 7, against the benchmark's
// responder; more against a server with more EHLO keywords); a tcp check
// 1 or 2 lines and phases, 3 with a name to look up: its trace is 512
// bytes rather than 896 (45% of the tests at 100,000 lean).
type (
	fullTrace struct {
		Trace
		lines  [16]string
		phases [8]Phase
	}
	smallTrace struct {
		Trace
		lines  [4]string
		phases [3]Phase
	}
)

// tlsCert is the server's certificate and what it was checked for.
type tlsCert struct {
	leaf     *x509.Certificate
	verified bool       // chain and name verified
	name     string     // the name it must be for
	warnDays int        // cert_warn_days of the leg's config
	facts    *certFacts // of leaf, when verified (verifycache.go); nil: worked out from leaf
}

// NewTrace starts a trace; now is the clock (nil: time.Now).
func NewTrace(ctx context.Context, now func() time.Time) *Trace {
	return newTrace(ctx, now, false)
}

// newTrace starts a trace with room for a small check's lines and phases
// (Kind.SmallTrace) or a protocol conversation's.
func newTrace(ctx context.Context, now func() time.Time, small bool) *Trace {
	if now == nil {
		now = time.Now
	}
	var t *Trace
	var lines []string
	var phases []Phase
	if small {
		x := new(smallTrace)
		t, lines, phases = &x.Trace, x.lines[:0], x.phases[:0]
	} else {
		x := new(fullTrace)
		t, lines, phases = &x.Trace, x.lines[:0], x.phases[:0]
	}
	t.phases = phases
	t.ctx, t.start, t.now, t.tlsMode = ctx, now(), now, TLSNone
	t.Transcript, t.root = &t.transcript, t
	t.transcript.Room(lines)
	return t
}

// Leg returns the trace of one leg of a multi-leg test (the SMTP leg of a
// round trip): its phases and details land in this trace with the leg's name
// as prefix ("smtp_connect"), its transcript is this trace's, and its TLS
// and authentication facts are its own (see Facts).
func (t *Trace) Leg(name string) *Trace {
	l := &Trace{ctx: t.ctx, start: t.start, now: t.now, Transcript: t.Transcript,
		root: t.root, prefix: t.prefix + name + "_", tlsMode: TLSNone}
	t.root.mu.Lock()
	t.root.legs = append(t.root.legs, l)
	t.root.mu.Unlock()
	return l
}

// Facts summarizes a leg: the TLS mode negotiated, the TLS session and the
// authentication mechanism.
func (t *Trace) Facts() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := map[string]any{"tls_mode": t.tlsMode}
	if t.tlsState != nil || t.cert.leaf != nil {
		f["tls"] = tlsInfo(t.tlsState, t.cert, t.now())
	}
	if t.authMech != "" {
		f["auth_mechanism"] = t.authMech
	}
	return f
}

// Step runs fn as the named phase and times it. A failure comes back as a
// *StepError holding the phase and the classified code.
func (t *Trace) Step(name string, fn func() error) error {
	start := t.now()
	err := fn()
	name = t.prefix + name
	t.root.mu.Lock()
	t.root.phases = append(t.root.phases, Phase{Name: name, Duration: t.now().Sub(start)})
	t.root.mu.Unlock()
	if err == nil {
		return nil
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	code := Classify(err)
	// When the test's deadline passes, the connection is closed under the
	// reader: what looks like a disconnection is the timeout.
	if t.Expired() && (code == Disconnected || code == ProtocolViolation && !isProtocolError(err)) {
		code = Timeout
	}
	if code == Timeout {
		t.Transcript.Note("deadline reached in phase " + name)
	}
	if code == AuthFailed {
		err = t.withOAuthFailure(err)
	}
	return &StepError{Phase: name, Code: code, Reply: replyOf(err), Err: err}
}

func isProtocolError(err error) bool {
	var pe *wire.ProtocolError
	return errors.As(err, &pe)
}

// SetTLS records the TLS session and how it was reached.
func (t *Trace) SetTLS(cs *tls.ConnectionState, mode TLSMode) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tlsState, t.tlsMode = cs, mode
}

func (t *Trace) setCert(cs tls.ConnectionState, c tlsCert) {
	if len(cs.PeerCertificates) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c.leaf = cs.PeerCertificates[0]
	t.cert = c
}

// SetAuth records the mechanism that authenticated.
func (t *Trace) SetAuth(mech string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.authMech = mech
}

// SetDelivery records how long a probe message took to arrive.
func (t *Trace) SetDelivery(d time.Duration) {
	t.root.mu.Lock()
	defer t.root.mu.Unlock()
	t.root.delivery = d
}

// Detail records a fact learned of the server (its greeting, capabilities,
// message count). Values must be plain data and already sanitized.
func (t *Trace) Detail(key string, v any) {
	r := t.root
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.details == nil {
		r.details = make(map[string]any)
	} else if r.shared {
		r.details, r.shared = maps.Clone(r.details), false
	}
	r.details[t.prefix+key] = v
}

// Expired reports whether the test's deadline has passed. The socket's
// deadline can fire a moment before the context's timer, so the deadline's
// time is checked as well as the context.
func (t *Trace) Expired() bool {
	if t.ctx.Err() != nil {
		return true
	}
	dl, ok := t.ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// Context is the test's context.
func (t *Trace) Context() context.Context { return t.ctx }

// Now returns the trace's clock reading.
func (t *Trace) Now() time.Time { return t.now() }
