package engine

import (
	"maps"
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
	Last  *probe.Result
	Tests map[TestKey]int64
	// Version is the monitor's version this snapshot shows.
	Version Version
}

// Version identifies what a monitor's snapshot holds: two snapshots of
// the same monitor with equal versions are equal, so that /metrics
// renders again only the monitors that changed. It holds on to what it
// identifies (the loaded monitor, replaced when its settings, name or
// device change; the last result, replaced by each test with the counts
// of tests; the state), so an address is never reused while a version is
// kept.
type Version struct {
	entry *entry
	last  *probe.Result
	state state.State
}

// MonitorVersion is a monitor's id and version.
type MonitorVersion struct {
	ID      int64
	Version Version
}

// TestKey counts tests by outcome and error code.
type TestKey struct {
	Result probe.Status
	Code   probe.Code
}

// counts are tests since start, by monitor and outcome.
type counts map[TestKey]int64

// Snapshot returns every loaded monitor's state and last result: monitors
// deleted are gone from it at once.
func (e *Engine) Snapshot() []MonitorSnapshot {
	_, out := e.SnapshotChanged(nil, nil, func(int64, Version) bool { return false })
	return out
}

// SnapshotChanged appends every loaded monitor's id and version to vs,
// and to snaps the snapshot of each monitor for which same(id, version)
// is false, in no particular order. same is called with the engine
// locked: it must be quick and must not call the engine. A scrape of
// 100,000 monitors copies only those tested since the last one.
func (e *Engine) SnapshotChanged(vs []MonitorVersion, snaps []MonitorSnapshot, same func(id int64, v Version) bool) ([]MonitorVersion, []MonitorSnapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	vs = slices.Grow(vs, len(e.monitors))
	for id, en := range e.monitors {
		v := Version{entry: en, last: e.last[id], state: e.status[id].State}
		vs = append(vs, MonitorVersion{ID: id, Version: v})
		if same(id, v) {
			continue
		}
		s := MonitorSnapshot{ID: id, Name: en.m.Name, Device: en.device.Name, Type: en.m.Type,
			State: v.state, Last: v.last, Tests: maps.Clone(map[TestKey]int64(e.tests[id])), Version: v}
		if s.Tests == nil {
			s.Tests = map[TestKey]int64{}
		}
		if s.State == "" {
			s.State = state.Pending
		}
		if !en.m.Enabled {
			s.State = state.Disabled
		}
		snaps = append(snaps, s)
	}
	return vs, snaps
}

func (e *Engine) count(id int64, res *probe.Result) {
	k := TestKey{Result: res.Status}
	if res.Error != nil {
		k.Code = res.Error.Code
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tests[id] == nil {
		e.tests[id] = counts{}
	}
	e.tests[id][k]++
	e.last[id] = forMetrics(res)
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
