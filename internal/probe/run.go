package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Prober tests one service within ctx, recording into t. It returns nil when
// the service works, or the error that ended the test.
type Prober func(ctx context.Context, cfg *Config, t *Trace) error

// Run validates cfg as a k, runs k.Probe under one absolute deadline
// (cfg.Timeout, or ctx's own if that comes first) and turns what happened
// into a Result.
func Run(ctx context.Context, k Kind, cfg Config) *Result {
	verr := cfg.Validate(k)
	ctx, cancel := within(ctx, cfg.Timeout)
	defer cancel()
	t := newTrace(ctx, nil, k.SmallTrace)
	t.AddSecrets(&cfg)
	err := verr
	if err == nil {
		err = k.Probe(ctx, &cfg, t)
	}
	return t.Result(&cfg, err)
}

// Result turns the trace and the test's error into a Result.
func (t *Trace) Result(cfg *Config, err error) *Result {
	end := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	target := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	if cfg.Port == 0 {
		target = cfg.Host // a ping has no port
	}
	r := &Result{
		Type:     cfg.Type,
		Target:   target,
		Started:  t.start.UTC(),
		RTT:      end.Sub(t.start),
		Phases:   append([]Phase(nil), t.phases...),
		TLSMode:  t.tlsMode,
		Auth:     t.authMech,
		Delivery: t.delivery,
		Status:   StatusUp,
	}
	if len(t.details) > 0 {
		// Handed over, not copied: Detail copies it should the trace
		// record more.
		r.Details, t.shared = t.details, true
	}
	if t.tlsState != nil || t.cert.leaf != nil {
		r.TLS = tlsInfo(t.tlsState, t.cert, end)
	}
	certWarnings, err := t.judgeCerts(r.TLS, err, end)
	if err != nil {
		r.Status = StatusDown
		var w *Warning
		if errors.As(err, &w) {
			r.Status = StatusWarn
		}
		code := Classify(err)
		e := &Error{Code: code, Message: code.Message(), Detail: err.Error()}
		var se *StepError
		if errors.As(err, &se) {
			e.Phase, e.Reply = se.Phase, se.Reply
			e.Detail = se.Err.Error()
			if se.Phase == "tls" {
				r.TLSMode = "" // nothing was negotiated
			}
		}
		r.Error = e
	}
	if r.Status != StatusDown {
		if cfg.WarnRTT > 0 && r.RTT > cfg.WarnRTT {
			r.Status = StatusWarn
			r.Warnings = append(r.Warnings, fmt.Sprintf("rtt %.1f ms is over the warn threshold %v", ms(r.RTT), cfg.WarnRTT))
		}
		if len(certWarnings) > 0 {
			r.Status = StatusWarn
			r.Warnings = append(r.Warnings, certWarnings...)
		}
	}
	// The transcript is kept with failures and warnings; it is what a person
	// reads to see what the server said.
	r.Transcript = t.Transcript.Lines()
	r.withholdForeign(cfg)
	r.redact(t.Secrets()) // last: nothing leaves unredacted
	return r
}

// within is ctx ended after timeout: ctx itself when its own deadline is
// not later (no context, timer or parent's children map for a deadline
// that could not fire first; its maker cancels it), else a child with the
// timeout.
func within(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && !dl.After(time.Now().Add(timeout)) {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}
