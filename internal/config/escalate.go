package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// Escalation notifies more alert actions when an outage lasts: After the
// monitor went Down, if no one acknowledged it, the actions To are told
// too (once per outage), and told of its recovery. On an alert action it
// applies to every monitor that uses the action; on a monitor (under
// notify) to that monitor.
type Escalation struct {
	After Duration `yaml:"after" json:"after"`
	To    []string `yaml:"to" json:"to"`
}

// Schedule is when an alert action notifies: within its weekly hours.
// An alert or recovery raised outside them is dropped for this action
// (Outside "drop", the default), or held and sent when the hours next
// begin ("hold").
type Schedule struct {
	Zone    string   `yaml:"zone,omitempty" json:"zone,omitempty"`
	Days    []string `yaml:"days,omitempty" json:"days,omitempty"`
	From    string   `yaml:"from,omitempty" json:"from,omitempty"`
	To      string   `yaml:"to,omitempty" json:"to,omitempty"`
	Outside string   `yaml:"outside,omitempty" json:"outside,omitempty"` // drop | hold
}

// Hours are the schedule's weekly hours.
func (s *Schedule) Hours() Weekly { return Weekly{Zone: s.Zone, Days: s.Days, From: s.From, To: s.To} }

// What a schedule does with a notification raised outside its hours.
const (
	OutsideDrop = "drop"
	OutsideHold = "hold"
)

// Holds reports whether notifications raised outside the hours wait for
// them (else they are dropped).
func (s *Schedule) Holds() bool { return s.Outside == OutsideHold }

// MinEscalateAfter is the shortest escalation: shorter would notify the
// second set with the first.
const MinEscalateAfter = time.Minute

func (e *Escalation) check(p, self string, alertNames map[string]bool, add func(path, format string, args ...any)) {
	if e.After.D() < MinEscalateAfter {
		add(p+".after", "must be at least %v (like 15m: the outage's length before escalating)", MinEscalateAfter)
	}
	if len(e.To) == 0 {
		add(p+".to", "name at least one alert to notify (like to: [pager])")
	}
	names := make([]string, 0, len(alertNames))
	for n := range alertNames {
		names = append(names, n)
	}
	slices.Sort(names)
	for k, to := range e.To {
		switch {
		case to == self && self != "":
			add(fmt.Sprintf("%s.to[%d]", p, k), "%q escalates to itself: name another alert", to)
		case !alertNames[to]:
			add(fmt.Sprintf("%s.to[%d]", p, k), "no alert is named %q%s", to, probe.DidYouMean(to, names))
		}
	}
}

func (s *Schedule) check(p string, add func(path, format string, args ...any)) {
	s.Hours().Check(p, add)
	if o := s.Outside; o != "" && o != OutsideDrop && o != OutsideHold {
		add(p+".outside", "%q is not drop or hold%s", o, probe.DidYouMean(o, []string{OutsideDrop, OutsideHold}))
	}
}
