package config

import (
	"strings"
	"testing"
)

func TestLocations(t *testing.T) {
	const head = "devices:\n  - name: a\n    address: h\n    monitors:\n      - {name: m, type: smtp, locations: "
	f, err := Parse("ok.yaml", []byte(head+"{require: 2, at: [fra, nyc-1]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := f.Devices[0].Monitors[0].Locations; l == nil || l.Require != 2 || len(l.At) != 2 {
		t.Errorf("parsed %+v", l)
	}
	out, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("export.yaml", out)
	if err != nil || again.Devices[0].Monitors[0].Locations == nil || again.Devices[0].Monitors[0].Locations.At[1] != "nyc-1" {
		t.Errorf("locations do not survive an export (%v):\n%s", err, out)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"{require: 0}}", "locations.require: must be at least 1"},
		{"{require: 3, at: [fra, nyc]}}", "locations.require: 3 is more than the 2 locations in at"},
		{"{require: 1, at: [fra, fra]}}", `locations.at[1]: "fra" is listed twice`},
		{"{require: 1, at: [Frankfurt]}}", `locations.at[0]: location "Frankfurt": 1 to 32 of a-z`},
		{"{require: 1, where: [fra]}}", "where"},
	} {
		_, err := Parse("bad.yaml", []byte(head+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
