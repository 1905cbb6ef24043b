package plugin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a threshold in the range syntax of the Monitoring Plugins
// development guidelines. A value outside [Start, End] raises the alert,
// both ends inclusive (a value equal to an end is inside); with Inside
// ("@" before the range) a value inside does.
//
//	10      outside 0..10       alert when < 0 or > 10
//	10:     outside 10..+inf    alert when < 10
//	~:10    outside -inf..10    alert when > 10
//	10:20   outside 10..20      alert when < 10 or > 20
//	@10:20  inside 10..20       alert when >= 10 and <= 20
type Range struct {
	Start, End float64 // -Inf and +Inf for an open end
	Inside     bool
	set        bool
}

// IsZero reports whether no range was given.
func (r Range) IsZero() bool { return !r.set }

// Alert reports whether v raises the alert.
func (r Range) Alert(v float64) bool {
	if !r.set {
		return false
	}
	in := v >= r.Start && v <= r.End
	return in == r.Inside
}

// ParseRange reads s; bound turns one end into a number (seconds for a
// time, with a unit allowed: see parseSeconds).
func ParseRange(s string, bound func(string) (float64, error)) (Range, error) {
	r := Range{Start: 0, End: math.Inf(1), set: true}
	body := s
	if rest, ok := strings.CutPrefix(body, "@"); ok {
		r.Inside, body = true, rest
	}
	if body == "" {
		return Range{}, fmt.Errorf("%q is not a range (10, 10:, ~:10, 10:20 or @10:20)", s)
	}
	start, end, colon := strings.Cut(body, ":")
	if !colon { // "10": 0..10
		end, start = start, ""
	}
	var err error
	switch start {
	case "":
	case "~":
		r.Start = math.Inf(-1)
	default:
		if r.Start, err = bound(start); err != nil {
			return Range{}, fmt.Errorf("%q: the start %v", s, err)
		}
	}
	if end != "" {
		if r.End, err = bound(end); err != nil {
			return Range{}, fmt.Errorf("%q: the end %v", s, err)
		}
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("%q: the start is above the end", s)
	}
	return r, nil
}

// String is the range in the guidelines' syntax, its ends in the unit the
// value is reported in (seconds for a time): what perfdata's warn and crit
// fields carry.
func (r Range) String() string {
	if !r.set {
		return ""
	}
	var b strings.Builder
	if r.Inside {
		b.WriteByte('@')
	}
	switch {
	case math.IsInf(r.Start, -1):
		b.WriteString("~:")
	case r.Start != 0 || math.IsInf(r.End, 1) || r.Inside:
		b.WriteString(num(r.Start) + ":")
	}
	if !math.IsInf(r.End, 1) {
		b.WriteString(num(r.End))
	}
	return b.String()
}

// why says how v raised the alert, for the status line: "over 2",
// "under 10", "inside @10:20".
func (r Range) why(v float64) string {
	switch {
	case r.Inside:
		return "inside " + r.String()
	case v > r.End:
		return "over " + num(r.End)
	}
	return "under " + num(r.Start)
}

// num is a number as short as it can be written exactly.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// number reads a plain number: a count of days.
func number(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}
