package config

import (
	"fmt"
	"time"
)

// Limits of serve on every monitor's timing: the shortest interval between
// tests and the longest a test may take. The API and the web form refuse a
// monitor outside them (CheckTiming); the engine clamps every monitor to
// them (ClampTiming), applied ones included, since apply cannot know the
// flags of the daemon that will run them.
type TimingLimits struct {
	MinInterval time.Duration // serve --min-interval; 0: DefaultMinInterval
	MaxDuration time.Duration // serve --max-duration; 0: DefaultMaxDuration
}

// Timing limit defaults. A test every ten seconds is ample for a mail
// service, and five minutes holds the slowest round trip (the default
// round-trip budget is one minute).
const (
	DefaultMinInterval = 10 * time.Second
	DefaultMaxDuration = 5 * time.Minute
)

// WithDefaults fills the limits left zero.
func (l TimingLimits) WithDefaults() TimingLimits {
	if l.MinInterval <= 0 {
		l.MinInterval = DefaultMinInterval
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	return l
}

// CheckTiming reports the fields of t (defaults filled) outside the
// limits, by their paths under "timing.", each naming the limit and the
// flag that sets it.
func (l TimingLimits) CheckTiming(t Timing) []FieldError {
	l = l.WithDefaults()
	var errs []FieldError
	for _, iv := range t.intervals() {
		if iv.d.D() > 0 && iv.d.D() < l.MinInterval {
			errs = append(errs, FieldError{"timing." + iv.name, fmt.Sprintf(
				"%v is shorter than the minimum interval %v of this server (serve --min-interval)", iv.d.D(), l.MinInterval)})
		}
	}
	if t.MaxDuration.D() > l.MaxDuration {
		errs = append(errs, FieldError{"timing.max_duration", fmt.Sprintf(
			"%v is longer than the longest test %v this server allows (serve --max-duration)", t.MaxDuration.D(), l.MaxDuration)})
	}
	return errs
}

// ClampTiming brings t (defaults filled) within the limits and says what
// it changed, for a log line; "" when nothing.
func (l TimingLimits) ClampTiming(t *Timing) string {
	l = l.WithDefaults()
	var changed string
	note := func(s string) {
		if changed != "" {
			changed += ", "
		}
		changed += s
	}
	for _, iv := range t.intervals() {
		if iv.d.D() < l.MinInterval {
			note(fmt.Sprintf("%s %v raised to %v (serve --min-interval)", iv.name, iv.d.D(), l.MinInterval))
			*iv.d = Duration(l.MinInterval)
		}
	}
	if t.MaxDuration.D() > l.MaxDuration {
		note(fmt.Sprintf("max_duration %v cut to %v (serve --max-duration)", t.MaxDuration.D(), l.MaxDuration))
		t.MaxDuration = Duration(l.MaxDuration)
	}
	return changed
}

type interval struct {
	name string
	d    *Duration
}

func (t *Timing) intervals() []interval {
	return []interval{{"up_every", &t.UpEvery}, {"down_every", &t.DownEvery}, {"lost_every", &t.LostEvery}}
}
