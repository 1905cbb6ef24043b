package engine

import (
	"cmp"
	"slices"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
)

// MonitorSnapshot is what the engine knows of one monitor now, for
// /metrics.
type MonitorSnapshot struct {
	ID     int64
	Name   string
	Device string
	Type   string
	State  state.State
	// Last is what /metrics shows of the last test since start (nil
	// before the first): its status, times and certificates' expiry, not
	// its transcript or details (the store keeps the whole result).
	Last *probe.Result
	// Tests are the tests since start by outcome, sorted by code then
	// result (the order client_golang wrote them in).
	Tests []TestCount
}

// TestKey counts tests by outcome and error code.
type TestKey struct {
	Result probe.Status
	Code   probe.Code
}

// TestCount is the number of tests of one outcome.
type TestCount struct {
	TestKey
	N int64
}

// counts are a monitor's tests since start, by outcome, sorted as
// MonitorSnapshot.Tests. A slice, not a map: a monitor has one to three
// outcomes, and a map of one cost ~400 B a monitor kept, and as much again
// copied for every /metrics scrape.
type counts []TestCount

// add counts a test of outcome k.
func (c counts) add(k TestKey) counts {
	i, found := slices.BinarySearchFunc(c, k, func(t TestCount, k TestKey) int {
		return cmp.Or(cmp.Compare(t.Code, k.Code), cmp.Compare(t.Result, k.Result))
	})
	if found {
		c[i].N++
		return c
	}
	return slices.Insert(c, i, TestCount{k, 1})
}

// Snapshot returns every loaded monitor's state and last result: monitors
// deleted are gone from it at once. It allocates twice whatever the
// monitors (their counts share one array), so that the engine's lock is
// held briefly at 100,000 monitors.
func (e *Engine) Snapshot() []MonitorSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.tests {
		n += len(c)
	}
	all := make(counts, 0, n)
	out := make([]MonitorSnapshot, 0, len(e.monitors))
	for id, en := range e.monitors {
		s := MonitorSnapshot{ID: id, Name: en.m.Name, Device: en.device.Name, Type: en.m.Type,
			State: e.status[id].State, Last: e.last[id]}
		if s.State == "" {
			s.State = state.Pending
		}
		if !en.m.Enabled {
			s.State = state.Disabled
		}
		if c := e.tests[id]; len(c) > 0 {
			i := len(all)
			all = append(all, c...)
			s.Tests = all[i:len(all):len(all)]
		}
		out = append(out, s)
	}
	return out
}

func (e *Engine) count(id int64, res *probe.Result) {
	k := TestKey{Result: res.Status}
	if res.Error != nil {
		k.Code = res.Error.Code
	}
	last := forMetrics(res)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tests[id] = e.tests[id].add(k)
	e.last[id] = last
}

// forMetrics is what MonitorSnapshot.Last keeps of res. The whole result
// of every monitor's last test (its transcript above all) was ~1.4 KiB a
// monitor of live heap, 28 MB at 20,000 monitors, read by nothing but
// /metrics.
func forMetrics(res *probe.Result) *probe.Result {
	out := &probe.Result{Type: res.Type, Status: res.Status, Started: res.Started, RTT: res.RTT,
		Phases: res.Phases, Delivery: res.Delivery, TLS: certOnly(res.TLS)}
	if leg := certOnly(res.LegTLS(probe.LegSMTP)); leg != nil {
		out.Details = map[string]any{probe.LegSMTP: map[string]any{"tls": leg}}
	}
	return out
}

// certOnly is the certificate's expiry of info, or nil.
func certOnly(info *probe.TLSInfo) *probe.TLSInfo {
	if info == nil || info.CertNotAfter.IsZero() {
		return nil
	}
	return &probe.TLSInfo{CertNotAfter: info.CertNotAfter}
}
