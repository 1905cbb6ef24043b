package plugin

import (
	"math"
	"regexp"
	"testing"
)

// perfItem is the guidelines' grammar of one item:
// 'label'=value[UOM];[warn];[crit];[min];[max], a label quoted when it
// holds a space, '=' or a quote (a quote doubled inside).
var perfItem = regexp.MustCompile(`^('([^']|'')+'|[^ '=]+)=-?[0-9.]+(s|us|ms|%|B|KB|MB|TB|c)?(;[~@0-9.:-]*){0,4}$`)

func TestPerf(t *testing.T) {
	two := Range{Start: 0, End: 2, set: true}
	tests := []struct {
		p    Perf
		want string
	}{
		{Perf{Label: "time", Value: "0.007400", UOM: "s", Warn: Range{Start: 0, End: 5, set: true}, Crit: Range{Start: 0, End: 10, set: true}, Min: "0"}, "time=0.007400s;5;10;0"},
		{Perf{Label: "time", Value: "0.1", UOM: "s", Min: "0"}, "time=0.1s;;;0"},
		{Perf{Label: "cert_days_left", Value: "42", Warn: atLeast(30), Crit: atLeast(14)}, "cert_days_left=42;30:;14:"},
		{Perf{Label: "cert_days_left", Value: "42", Warn: atLeast(30)}, "cert_days_left=42;30:"},
		{Perf{Label: "cert_days_left", Value: "42"}, "cert_days_left=42"},
		{Perf{Label: "used", Value: "3", UOM: "B", Min: "0", Max: "10"}, "used=3B;;;0;10"},
		{Perf{Label: "with space", Value: "1", Warn: two}, "'with space'=1;2"},
		{Perf{Label: "a=b", Value: "1"}, "'a=b'=1"},
		{Perf{Label: "it's", Value: "1"}, "'it''s'=1"},
		{Perf{Label: "pipe|and\nline", Value: "1"}, "pipe_and_line=1"},
		{Perf{Label: "µs", Value: "1"}, "us=1"},
		{Perf{Label: "", Value: "1"}, "_=1"},
		{Perf{Label: "late", Value: "1", UOM: "s", Warn: Range{Start: 10, End: 20, Inside: true, set: true}}, "late=1s;@10:20"},
		{Perf{Label: "d", Value: "1", Crit: Range{Start: math.Inf(-1), End: 3, set: true}}, "d=1;;~:3"},
	}
	for _, tt := range tests {
		got := tt.p.String()
		if got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.p, got, tt.want)
		}
		if !perfItem.MatchString(got) {
			t.Errorf("%q is not of the perfdata grammar", got)
		}
	}
}

// TestPerfdataUniqueLabels: a label met again gets _2, _3, so that no
// monitoring system drops or merges a series.
func TestPerfdataUniqueLabels(t *testing.T) {
	var pd Perfdata
	for _, l := range []string{"time", "connect", "connect", "greeting", "connect", "connect_2"} {
		pd.Add(Perf{Label: l, Value: "1", UOM: "s"})
	}
	if got, want := pd.String(), "time=1s connect=1s connect_2=1s greeting=1s connect_3=1s connect_2_2=1s"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
