package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// TestJudge: a K-of-N verdict rests on fresh evidence only: a location
// without a live node or with an old result is unknown, never Up; Down
// needs K failing, Up needs so many passing that fewer than K can fail,
// and anything between keeps the state.
func TestJudge(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fresh := 25 * time.Second
	r := func(loc string, st probe.Status, age time.Duration) store.Result {
		res := store.Result{Location: loc, Status: st, Time: now.Add(-age), Node: "n-" + loc}
		if st == probe.StatusDown {
			res.Code = probe.Code("refused-" + loc)
		}
		if st == probe.StatusWarn {
			res.Code = "slow"
		}
		return res
	}
	both := map[string]bool{"fra": true, "nyc": true}
	fraOnly := map[string]bool{"fra": true}
	two := &config.Locations{Require: 2, At: []string{"fra", "nyc"}}
	cases := []struct {
		name    string
		l       *config.Locations
		latest  []store.Result
		live    map[string]bool
		want    probe.Status
		code    probe.Code
		unknown string // locations unknown, joined
		text    string // in the verdict's text
	}{
		{"both failing", two, []store.Result{r("fra", "down", time.Second), r("nyc", "down", 2*time.Second)}, both,
			probe.StatusDown, "refused-fra", "", "2 of 2 locations failing, 2 required: fra, nyc"},
		{"both passing", two, []store.Result{r("fra", "up", time.Second), r("nyc", "up", time.Second)}, both, probe.StatusUp, "", "", ""},
		{"one failing, one passing: up, disagreeing", two, []store.Result{r("fra", "down", time.Second), r("nyc", "up", time.Second)}, both,
			probe.StatusUp, "", "", "locations disagree: 1 of 2 failing (fra), 2 required"},
		{"the only node of nyc gone: no recovery, the state is kept", two, []store.Result{r("fra", "down", time.Second), r("nyc", "down", time.Second)}, fraOnly,
			"", "", "nyc", "too few locations to decide: 1 of 2 failing (fra), 0 passing, 2 required; unknown: nyc; the state is kept"},
		{"nyc's result too old: unknown", two, []store.Result{r("fra", "down", time.Second), r("nyc", "up", time.Minute)}, both,
			"", "", "nyc", "too few locations"},
		{"nyc never tested: unknown", two, []store.Result{r("fra", "down", time.Second)}, both, "", "", "nyc", "0 passing"},
		{"one passing is enough when only one other could fail", two, []store.Result{r("fra", "up", time.Second)}, fraOnly, probe.StatusUp, "", "nyc", ""},
		{"require 1: one unknown could be failing", &config.Locations{Require: 1, At: []string{"fra", "nyc"}},
			[]store.Result{r("fra", "up", time.Second)}, fraOnly, "", "", "nyc", "too few locations"},
		{"require 1: one failing is down", &config.Locations{Require: 1, At: []string{"fra", "nyc"}},
			[]store.Result{r("fra", "up", time.Second), r("nyc", "down", time.Second)}, both, probe.StatusDown, "refused-nyc", "", "1 of 2 locations failing, 1 required: nyc"},
		{"a slow location makes it warn", two, []store.Result{r("fra", "up", time.Second), r("nyc", "warn", time.Second)}, both, probe.StatusWarn, "slow", "", ""},
		{"no at: every live location counts, and one with a recent result", &config.Locations{Require: 2},
			[]store.Result{r("fra", "down", time.Second), r("lab", "down", 10*time.Minute)}, map[string]bool{"fra": true, "nyc": true},
			"", "", "lab, nyc", "1 of 3 failing"},
		{"no at: two failing of three", &config.Locations{Require: 2},
			[]store.Result{r("fra", "down", time.Second), r("nyc", "down", time.Second), r("sfo", "up", time.Second)}, nil,
			probe.StatusDown, "refused-fra", "", "2 of 3 locations failing, 2 required: fra, nyc"},
		{"fewer locations than required never decide down", &config.Locations{Require: 3, At: []string{"fra", "nyc"}},
			[]store.Result{r("fra", "down", time.Second), r("nyc", "down", time.Second)}, both, "", "", "", "2 of 3 failing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			views, v := judge(c.l, c.latest, c.live, fresh, now)
			if v.Status != c.want || v.Code != c.code {
				t.Errorf("verdict %q %q, want %q %q (%+v)", v.Status, v.Code, c.want, c.code, v)
			}
			if got := strings.Join(v.Unknown, ", "); got != c.unknown {
				t.Errorf("unknown %q, want %q", got, c.unknown)
			}
			if !strings.Contains(v.String(), c.text) || (c.text == "" && v.String() != "") {
				t.Errorf("text %q, want %q", v.String(), c.text)
			}
			for _, view := range views {
				if (view.Unknown != "") != strings.Contains(", "+c.unknown+",", ", "+view.Location+",") {
					t.Errorf("view %+v", view)
				}
			}
		})
	}
}

// TestRoundDone: a K-of-N round is decided by the test that completes it
// (every location that counts reported since the last verdict), or the
// first after a round and a half.
func TestRoundDone(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	last := now.Add(-10 * time.Second)
	view := func(loc string, at time.Time, unknown string) LocationView {
		return LocationView{Location: loc, Latest: &store.Result{Location: loc, Time: at}, Unknown: unknown}
	}
	iv := 10 * time.Second
	cases := []struct {
		name  string
		views []LocationView
		last  time.Time
		want  bool
	}{
		{"the first to report waits for the other", []LocationView{view("fra", now, ""), view("nyc", last.Add(-time.Second), "")}, last, false},
		{"the last to report decides", []LocationView{view("fra", now.Add(-time.Second), ""), view("nyc", now, "")}, last, true},
		{"an unknown location is not waited for", []LocationView{view("fra", now, ""), view("nyc", last.Add(-time.Minute), "no live node there")}, last, true},
		{"a location that did not report for a round and a half is not waited for",
			[]LocationView{view("fra", now, ""), view("nyc", now.Add(-16*time.Second), "")}, now.Add(-15 * time.Second), true},
		{"the first verdict", []LocationView{view("fra", now, ""), view("nyc", now.Add(-time.Second), "")}, time.Time{}, true},
	}
	for _, c := range cases {
		if got := roundDone(c.views, c.last, iv, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
