package storetest

import (
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// deviceWindows: a device's maintenance windows are stored and read back
// as given, changed, and cleared.
func deviceWindows(t *testing.T, s store.Store) {
	d := &store.Device{Name: "win", Address: "192.0.2.1"}
	must(t, s.PutDevice(ctx, d))
	for _, want := range []string{`[{"start":"02:00","end":"04:00","days":["sun"],"zone":"Europe/Berlin"}]`, `[{"start":"03:00","duration":"1h0m0s","days":["sat"]}]`, ""} {
		if want != "" || d.Maintenance != nil {
			d.Maintenance = []byte(want)
			if want == "" {
				d.Maintenance = nil
			}
			must(t, s.PutDevice(ctx, d))
		}
		got, err := s.Device(ctx, d.ID)
		must(t, err)
		ds, _, err := s.Devices(ctx, store.Page{})
		must(t, err)
		if string(got.Maintenance) != want || len(ds) != 1 || string(ds[0].Maintenance) != want {
			t.Errorf("maintenance %q (list: %v), want %q", got.Maintenance, ds, want)
		}
	}
}
