package engine

import (
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
	Last   *probe.Result // nil before the first test since start
	Tests  map[TestKey]int64
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
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]MonitorSnapshot, 0, len(e.monitors))
	for id, en := range e.monitors {
		s := MonitorSnapshot{ID: id, Name: en.m.Name, Device: en.device.Name, Type: en.m.Type,
			State: e.status[id].State, Last: e.last[id], Tests: map[TestKey]int64{}}
		if s.State == "" {
			s.State = state.Pending
		}
		if !en.m.Enabled {
			s.State = state.Disabled
		}
		for k, v := range e.tests[id] {
			s.Tests[k] = v
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
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tests[id] == nil {
		e.tests[id] = counts{}
	}
	e.tests[id][k]++
	e.last[id] = res
}
