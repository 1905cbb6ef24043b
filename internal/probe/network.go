package probe

import (
	"fmt"
	"maps"
	"strings"
)

// What a result may show of a server to a caller who configured the target
// over the network (Config.Egress set: /probe, a monitor or relay saved
// through the API or the web UI).
//
// Such a caller can point the daemon at any service the egress policy
// allows, including ones it cannot reach itself, so a result must not be a
// way to read a foreign service's words:
//   - a tcp check reports only whether the expected text was found and how
//     many bytes came, never the banner (tcpprobe): there is no protocol
//     that makes its text a mail server's;
//   - a mail check (smtp, pop3, imap, the round trips) shows what the
//     server said while it spoke the protocol (a greeting that parsed, a
//     4xx/5xx refusal, capabilities): that is the monitor's purpose, and a
//     service that is not a mail server does not get that far with text of
//     its choosing. When the answer broke the protocol (protocol_violation:
//     an HTTP server on port 25, a database's error line), the server's
//     lines, its reply and the error's detail, which quotes them, are
//     withheld.
//
// /probe shows none of this in any case (its series carry no server text);
// what a network caller learns there is the success bit, the timing and the
// error code, which the policy bounds by the targets it allows.

// withheld stands for the server's words in a result.
const withheld = "withheld: the target was configured over the network"

// withholdForeign applies the rules above to a result of cfg.
func (r *Result) withholdForeign(cfg *Config) {
	if cfg.Egress == nil {
		return
	}
	violation := r.Error != nil && r.Error.Code == ProtocolViolation
	if cfg.Type != "tcp" && !violation {
		return
	}
	// A tcp check's transcript is its notes and the banner; a mail check's
	// notes may quote the server too (plaintext injected after STARTTLS),
	// so only the client's lines are kept of it.
	keep := func(l string) bool { return strings.HasPrefix(l, "C: ") }
	if cfg.Type == "tcp" {
		keep = func(l string) bool { return !strings.HasPrefix(l, "S: ") }
	}
	r.Transcript = withhold(r.Transcript, keep)
	if _, ok := r.Details["greeting"]; ok {
		r.Details = maps.Clone(r.Details) // the trace's own (Trace.Result)
		delete(r.Details, "greeting")
	}
	if r.Error != nil {
		r.Error.Reply = ""
		if violation && cfg.Type != "tcp" {
			r.Error.Detail = "the answer broke the protocol; the server's words are " + withheld
		}
	}
}

// withhold keeps the lines of a transcript that keep accepts and says
// how many it left out.
func withhold(lines []string, keep func(string) bool) []string {
	out := make([]string, 0, len(lines)+1)
	for _, l := range lines {
		if keep(l) {
			out = append(out, l)
		}
	}
	if n := len(lines) - len(out); n > 0 {
		out = append(out, fmt.Sprintf("-- %d lines %s", n, withheld))
	}
	return out
}
