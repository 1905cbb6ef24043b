package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

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

// TestAuthResultsKeys: the Authentication-Results settings reach the
// probe, and wrong ones are named as the YAML names them, with a fix.
func TestAuthResultsKeys(t *testing.T) {
	rt := "devices:\n  - name: a\n    address: mail.example.com\n    monitors:\n" +
		"      - {name: rt, type: imap-roundtrip, tls: implicit, user: probe@example.com, password: x, smtp: {port: 25}, %s}\n"
	f, err := Parse("a.yaml", fmt.Appendf(nil, rt, "auth_results: down, auth_results_id: mx.example.com, auth_results_methods: [dmarc, arc]"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Devices[0].Monitors[0].ProbeConfig("mail.example.com")
	if c.AuthResults != "down" || c.AuthResultsID != "mx.example.com" || !slices.Equal(c.AuthResultsMethods, []string{"dmarc", "arc"}) {
		t.Errorf("probe config %q %q %q", c.AuthResults, c.AuthResultsID, c.AuthResultsMethods)
	}
	for _, tc := range []struct{ keys, want string }{
		{"auth_results: critical", `devices[0].monitors[0].auth_results: "critical" is not one of warn, ignore, down`},
		{"auth_results: wran", `did you mean "warn"`},
		{"auth_results_id: 'mx.example.com; spf=pass'", `devices[0].monitors[0].auth_results_id: "mx.example.com; spf=pass" is not an authserv-id`},
		{"auth_results_methods: [dkim, 'spf=pass']", `devices[0].monitors[0].auth_results_methods: "spf=pass" is not an authentication method`},
	} {
		_, err := Parse("a.yaml", fmt.Appendf(nil, rt, tc.keys))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.keys, err, tc.want)
		}
	}
	_, err = Parse("a.yaml", []byte("devices:\n  - name: a\n    address: h\n    monitors:\n      - {name: s, type: smtp, auth_results: warn}\n"))
	if err == nil || !strings.Contains(err.Error(), "devices[0].monitors[0].auth_results: applies to round trips only") {
		t.Errorf("on an smtp monitor: %v", err)
	}
}

// TestDQSKeyKey: dqs_key is a secret of dnsbl monitors, letters and
// digits; a wrong one is named as the YAML names it.
func TestDQSKeyKey(t *testing.T) {
	y := "devices:\n  - name: a\n    address: 192.0.2.1\n    monitors:\n      - {name: m, type: %s, resolver: '127.0.0.1:53', dqs_key: %s}\n"
	f, err := Parse("d.yaml", fmt.Appendf(nil, y, "dnsbl", "{env: DQS}"))
	if err != nil || f.Devices[0].Monitors[0].DQSKey.Env != "DQS" {
		t.Fatalf("%v %+v", err, f)
	}
	for _, tc := range []struct{ typ, key, want string }{
		{"dnsbl", "abc123", ""},
		{"dnsbl", "abc.zen.spamhaus.org", "devices[0].monitors[0].dqs_key: is the key of a Spamhaus DQS account: letters and digits only"},
		{"dnsbl", "'abc 123'", "devices[0].monitors[0].dqs_key: is the key of a Spamhaus DQS account: letters and digits only"},
		{"spf", "abc123", "devices[0].monitors[0].dqs_key: applies to dnsbl monitors only"},
	} {
		_, err := Parse("d.yaml", fmt.Appendf(nil, y, tc.typ, tc.key))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %s: %v, want %q", tc.typ, tc.key, err, tc.want)
		}
	}
}
