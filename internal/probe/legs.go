package probe

import "encoding/json"

// LegSMTP names a round trip's SMTP leg: its phases are "smtp_…" and its
// facts are in Details["smtp"] (Trace.Leg, Trace.Facts).
const LegSMTP = "smtp"

// LegTLS returns the TLS facts of a leg of the test (details.<leg>.tls),
// as the test left them or as read back from their JSON; nil when the leg
// has none.
func (r *Result) LegTLS(leg string) *TLSInfo {
	if r == nil {
		return nil
	}
	facts, _ := r.Details[leg].(map[string]any)
	switch v := facts["tls"].(type) {
	case *TLSInfo:
		return v
	case map[string]any: // a stored result
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		var info TLSInfo
		if json.Unmarshal(b, &info) != nil {
			return nil
		}
		return &info
	}
	return nil
}
