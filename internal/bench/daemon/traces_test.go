package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTraceWindows(t *testing.T) {
	got, err := traceWindows("19s, 39s,1m15s", 4*time.Second, "prof")
	if err != nil {
		t.Fatal(err)
	}
	want := traceSet{at: []time.Duration{19 * time.Second, 39 * time.Second, 75 * time.Second}, length: 4 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got, err := traceWindows("", time.Second, ""); err != nil || got.at != nil {
		t.Errorf("no -trace: %+v, %v", got, err)
	}
	for _, c := range []struct{ list, profile, err string }{
		{"19s", "", "needs -profile"},
		{"19s,x", "prof", `"x" is not an offset`},
		{"-1s", "prof", "is not an offset"},
	} {
		if _, err := traceWindows(c.list, time.Second, c.profile); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("-trace %q -profile %q: %v, want %q", c.list, c.profile, err, c.err)
		}
	}
	if _, err := traceWindows("19s", 0, "prof"); err == nil {
		t.Error("-trace-for 0 taken")
	}
}
