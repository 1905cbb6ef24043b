package kinds

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// TestForeignServiceTextWithheld: pointed at a service that is not what
// the check speaks, a check whose target was set over the network
// (cfg.Egress) reports the failure and its code but not a word of the
// service's; the operator's check shows them as it always did. A tcp check
// never shows the banner to the network, and says whether the expected
// text was there.
func TestForeignServiceTextWithheld(t *testing.T) {
	const secret = "internal-token-5150"
	foreign := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("HTTP/1.1 400 Bad Request " + secret + "\r\n\r\n")
		c.Hang()
	})
	network := egress.Default().AllowLoopback()
	for _, tc := range []struct {
		typ, expect string
		code        probe.Code
	}{
		{"smtp", "", probe.ProtocolViolation},
		{"pop3", "", probe.ProtocolViolation},
		{"imap", "", probe.ProtocolViolation},
		{"tcp", "SSH-2.0", probe.ProtocolViolation},
		{"tcp", "HTTP/1.1", ""},
	} {
		t.Run(tc.typ+" "+tc.expect, func(t *testing.T) {
			k, _ := Lookup(tc.typ)
			cfg := probe.Config{Type: tc.typ, Host: foreign.Host, Port: foreign.Port, Expect: tc.expect, Timeout: 2 * time.Second}
			check := func(cfg probe.Config) (*probe.Result, string) {
				r := probe.Run(context.Background(), k, cfg)
				if tc.code == "" && r.Status != probe.StatusUp || tc.code != "" && (r.Error == nil || r.Error.Code != tc.code) {
					t.Fatalf("%s: %s %+v, want %q", tc.typ, r.Status, r.Error, tc.code)
				}
				b, _ := json.Marshal(r)
				return r, string(b)
			}
			if _, out := check(cfg); !strings.Contains(out, secret) {
				t.Errorf("the operator's check lost the server's words: %s", out)
			}
			cfg.Egress = network
			r, out := check(cfg)
			if strings.Contains(out, secret) || strings.Contains(out, "Bad Request") {
				t.Errorf("a network caller's result shows the service's words: %s", out)
			}
			if tc.typ == "tcp" && (r.Details["expect_found"] != (tc.code == "") || r.Details["banner_bytes"] == nil) {
				t.Errorf("tcp details %v, want expect_found and banner_bytes", r.Details)
			}
		})
	}
}
