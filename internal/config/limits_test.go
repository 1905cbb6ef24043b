package config

import (
	"strings"
	"testing"
	"time"
)

func TestTimingLimits(t *testing.T) {
	d := func(s string) Duration {
		v, _ := time.ParseDuration(s)
		return Duration(v)
	}
	l := TimingLimits{} // the defaults: 10 s and 5 min
	tm := Timing{MaxDuration: d("10m"), UpEvery: d("10ms"), DownEvery: d("10s"), LostEvery: d("9s")}
	errs := l.CheckTiming(tm)
	got := map[string]string{}
	for _, e := range errs {
		got[e.Path] = e.Msg
	}
	if len(got) != 3 || !strings.Contains(got["timing.up_every"], "--min-interval") || !strings.Contains(got["timing.lost_every"], "9s is shorter than the minimum interval 10s") ||
		!strings.Contains(got["timing.max_duration"], "--max-duration") {
		t.Errorf("CheckTiming = %v", got)
	}
	msg := l.ClampTiming(&tm)
	if tm != (Timing{MaxDuration: d("5m"), UpEvery: d("10s"), DownEvery: d("10s"), LostEvery: d("10s")}) {
		t.Errorf("clamped to %+v", tm)
	}
	for _, want := range []string{"up_every 10ms raised to 10s (serve --min-interval)", "lost_every 9s raised to 10s", "max_duration 10m0s cut to 5m0s (serve --max-duration)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("clamp message %q lacks %q", msg, want)
		}
	}
	if msg := l.ClampTiming(&tm); msg != "" || len(l.CheckTiming(tm)) != 0 {
		t.Errorf("within the limits: %q %v", msg, l.CheckTiming(tm))
	}
	fast := TimingLimits{MinInterval: time.Millisecond, MaxDuration: time.Hour}
	if errs := fast.CheckTiming(Timing{MaxDuration: d("30m"), UpEvery: d("10ms")}); len(errs) != 0 {
		t.Errorf("with --min-interval 1ms --max-duration 1h: %v", errs)
	}
}
