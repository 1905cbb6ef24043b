package plugin

import (
	"strconv"
	"strings"
)

// Perf is one performance data item of the guidelines' grammar:
//
//	'label'=value[UOM];[warn];[crit];[min];[max]
type Perf struct {
	Label      string
	Value      string // already formatted: "0.003100", "42"
	UOM        string // "s", "%", "B", "c" or ""
	Warn, Crit Range
	Min, Max   string // "" when unknown
}

// String writes the item; empty trailing fields are left out, and the
// label is quoted when it must be.
func (p Perf) String() string {
	fields := []string{quoteLabel(p.Label) + "=" + p.Value + p.UOM, p.Warn.String(), p.Crit.String(), p.Min, p.Max}
	n := len(fields)
	for n > 1 && fields[n-1] == "" {
		n--
	}
	return strings.Join(fields[:n], ";")
}

// quoteLabel quotes a label that holds a space, '=' or a quote, doubling
// its quotes, as the guidelines ask; '|' and line ends, which would end
// the perfdata, become '_'.
func quoteLabel(l string) string {
	l = ascii(strings.Map(func(r rune) rune {
		if r == '|' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, l))
	if l == "" {
		l = "_"
	}
	if !strings.ContainsAny(l, " ='\t") {
		return l
	}
	return "'" + strings.ReplaceAll(l, "'", "''") + "'"
}

// Perfdata is the items of one result, each label once: a label met again
// gets _2, _3, … (a round trip may time a phase of each leg, or a step
// per look into the mailbox, under one name).
type Perfdata []Perf

// Add appends p, its label made unique.
func (pd *Perfdata) Add(p Perf) {
	base, n := p.Label, 1
	for pd.has(p.Label) {
		n++
		p.Label = base + "_" + strconv.Itoa(n)
	}
	*pd = append(*pd, p)
}

func (pd Perfdata) has(label string) bool {
	for _, p := range pd {
		if p.Label == label {
			return true
		}
	}
	return false
}

func (pd Perfdata) String() string {
	s := make([]string, len(pd))
	for i, p := range pd {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// seconds formats a duration in seconds for perfdata, to the microsecond.
func secondsValue(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
