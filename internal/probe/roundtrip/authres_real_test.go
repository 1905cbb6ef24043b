package roundtrip

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestRealAuthResults: real Postfix adds an Authentication-Results header
// (header_checks, as a milter would) picked by the SMTP leg's EHLO name,
// Dovecot delivers it, and the round trip judges the header of the
// receiving server only.
func TestRealAuthResults(t *testing.T) {
	e := realmail.Start(t)
	rig := realRig{e: e, user: e.User, pass: e.Password, port: e.IMAPS, mode: probe.TLSImplicit, smtpPort: e.SMTP, smtpMode: probe.TLSNone}
	forged := "monitor@" + realmail.ForgedFromDomain
	pass := map[string]string{"spf": "pass", "dkim": "pass", "dmarc": "pass"}
	dmarcFail := map[string]string{"spf": "pass", "dkim": "pass", "dmarc": "fail"}
	tests := []struct {
		name        string
		ehlo, from  string
		policy, id  string
		status      probe.Status
		code        probe.Code
		message     string
		wantResults map[string]string // nil: none recorded
	}{
		{name: "all pass", ehlo: realmail.EHLOAuthPass, status: probe.StatusUp, wantResults: pass},
		{name: "dmarc fail warns", ehlo: realmail.EHLOAuthDMARCFail, status: probe.StatusWarn, code: probe.AuthResultsFailed,
			message: "DMARC fail at " + e.AuthServID + ": the probe's From domain is not aligned with a passing SPF or DKIM - fix SPF or DKIM for example.test", wantResults: dmarcFail},
		{name: "dmarc fail, named server", ehlo: realmail.EHLOAuthDMARCFail, id: e.AuthServID, status: probe.StatusWarn, code: probe.AuthResultsFailed, wantResults: dmarcFail},
		{name: "dmarc fail, ignored", ehlo: realmail.EHLOAuthDMARCFail, policy: AuthIgnore, status: probe.StatusUp, wantResults: dmarcFail},
		{name: "dmarc fail, down", ehlo: realmail.EHLOAuthDMARCFail, policy: AuthDown, status: probe.StatusDown, code: probe.AuthResultsFailed, wantResults: dmarcFail},
		// The receiving server adds nothing: the first header is the one
		// the sender wrote, and only naming the server keeps it out.
		{name: "a sender's header counts by default", ehlo: "monitor.example.test", from: forged, status: probe.StatusWarn, code: probe.AuthResultsFailed,
			message: "DMARC fail at forger.example.net", wantResults: map[string]string{"spf": "pass", "dkim": "pass", "dmarc": "fail"}},
		{name: "a sender's header does not count once the server is named", ehlo: "monitor.example.test", from: forged, id: e.AuthServID, status: probe.StatusUp},
		{name: "the named server's pass above a sender's fail", ehlo: realmail.EHLOAuthPass, from: forged, id: e.AuthServID, status: probe.StatusUp, wantResults: pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rig.config(IMAPName, 15e9)
			cfg.SMTP.EHLOName = tc.ehlo
			if tc.from != "" {
				cfg.From = tc.from
			}
			cfg.AuthResults, cfg.AuthResultsID = tc.policy, tc.id
			r := probe.Run(context.Background(), IMAPKind(), cfg)
			if r.Status != tc.status || (tc.code == "") != (r.Error == nil) || r.Error != nil && r.Error.Code != tc.code {
				t.Fatalf("status %s, want %s %s:\n%s\n%s", r.Status, tc.status, tc.code, dump(r), e.LogTail())
			}
			if tc.message != "" && !strings.HasPrefix(r.Error.Message, tc.message) && !strings.HasPrefix(r.Error.Detail, tc.message) {
				t.Errorf("message %q / %q, want it to start %q", r.Error.Message, r.Error.Detail, tc.message)
			}
			got, _ := r.Details["authentication_results"].(map[string]string)
			if !maps.Equal(got, tc.wantResults) {
				t.Errorf("authentication_results %v, want %v", r.Details["authentication_results"], tc.wantResults)
			}
		})
	}
}
