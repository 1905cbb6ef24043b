package probe

import (
	"encoding/json"
	"testing"
	"time"
)

// TestLegTLS: a leg's TLS facts are found as the test left them and as a
// stored result reads them back; a leg without any has none.
func TestLegTLS(t *testing.T) {
	expiry := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &Result{Details: map[string]any{LegSMTP: map[string]any{"tls_mode": TLSStartTLS, "tls": &TLSInfo{Version: "TLS 1.3", CertNotAfter: expiry}}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for what, res := range map[string]*Result{"in memory": r, "read back": &back} {
		if got := res.LegTLS(LegSMTP); got == nil || !got.CertNotAfter.Equal(expiry) || got.Version != "TLS 1.3" {
			t.Errorf("%s: %+v", what, got)
		}
		if got := res.LegTLS("pop3"); got != nil {
			t.Errorf("%s: a leg without facts has %+v", what, got)
		}
	}
	if (&Result{}).LegTLS(LegSMTP) != nil || (*Result)(nil).LegTLS(LegSMTP) != nil {
		t.Error("a result without details has TLS facts")
	}
}
