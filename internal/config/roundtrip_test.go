package config

import "testing"

// TestRoundTripAddresses: a round trip's From and To default to its
// mailbox's user when that is an address, as "mailmon check" does; one
// given stays.
func TestRoundTripAddresses(t *testing.T) {
	for _, c := range []struct{ user, from, to, wantFrom, wantTo string }{
		{"probe@example.com", "", "", "probe@example.com", "probe@example.com"},
		{"probe@example.com", "ops@example.com", "", "ops@example.com", "probe@example.com"},
		{"probe@example.com", "", "box@example.com", "box@example.com", "box@example.com"},
		{"probe", "", "", "", ""}, // not an address: still required
	} {
		m := Monitor{Type: "imap-roundtrip", User: c.user, From: c.from, To: c.to}
		m.ApplyDefaults()
		if m.From != c.wantFrom || m.To != c.wantTo {
			t.Errorf("user %q from %q to %q: got from %q to %q, want %q %q", c.user, c.from, c.to, m.From, m.To, c.wantFrom, c.wantTo)
		}
	}
}
