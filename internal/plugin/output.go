package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/probe"
)

// output prints a judged result.
type output func(w io.Writer, r *probe.Result, pd Perfdata)

func newOutput(name string, verbose bool) (output, error) {
	switch name {
	case "nagios":
		return func(w io.Writer, r *probe.Result, pd Perfdata) { io.WriteString(w, Nagios(r, pd, verbose)) }, nil
	case "json":
		return func(w io.Writer, r *probe.Result, _ Perfdata) {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(r)
		}, nil
	case "text":
		return func(w io.Writer, r *probe.Result, _ Perfdata) { io.WriteString(w, Text(r, verbose)) }, nil
	}
	return nil, fmt.Errorf("%q is not nagios, json or text", name)
}

// Nagios formats a result as the Monitoring Plugins guidelines ask: one
// ASCII status line, then perfdata with the total, every phase in seconds
// and the certificates' days left, thresholds echoed. With verbose, the
// conversation (redacted) follows the status line as long output, and
// the perfdata comes after it, on the last line:
//
//	SMTP OK - 127.0.0.1:25 responded in 3.1 ms|time=0.003100s;2;5;0 ...
//
//	SMTP OK - 127.0.0.1:25 responded in 3.1 ms
//	S: 220 mx ESMTP
//	...
//	| time=0.003100s;2;5;0 ...
func Nagios(r *probe.Result, pd Perfdata, verbose bool) string {
	var b strings.Builder
	b.WriteString(StatusLine(r))
	if verbose && len(r.Transcript) > 0 {
		b.WriteByte('\n')
		for _, l := range r.Transcript {
			b.WriteString(longLine(l) + "\n")
		}
	}
	b.WriteString("|" + pd.String() + "\n")
	return b.String()
}

// StatusLine is the first line of the Nagios output, without perfdata.
func StatusLine(r *probe.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s - ", strings.ToUpper(r.Type), stateName(exitCode(r)))
	switch {
	case r.Error != nil && r.Status == probe.StatusDown:
		fmt.Fprintf(&b, "%s: %s: %s", r.Target, r.Error.Code, r.Error.Message)
		if r.Error.Reply != "" {
			fmt.Fprintf(&b, " (server said: %s)", r.Error.Reply)
		} else if r.Error.Detail != "" {
			fmt.Fprintf(&b, " (%s)", r.Error.Detail)
		}
	default:
		fmt.Fprintf(&b, "%s responded in %.1f ms", r.Target, msf(r.RTT))
		if r.TLS != nil && r.TLS.Version != "" {
			fmt.Fprintf(&b, " (%s)", r.TLS.Version)
		}
		if r.Delivery > 0 {
			fmt.Fprintf(&b, ", probe delivered in %.1f ms", msf(r.Delivery))
		}
		if r.Error != nil { // a Warn with a code, e.g. delivered_to_junk
			fmt.Fprintf(&b, "; %s: %s", r.Error.Code, r.Error.Message)
			if r.Error.Detail != "" { // what it was, e.g. auth_results' verdict
				fmt.Fprintf(&b, " (%s)", r.Error.Detail)
			}
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "; %s", w)
	}
	return oneLine(b.String(), 400)
}

func stateName(code int) string {
	switch code {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// oneLine keeps a line one line of ASCII, without perfdata's separator,
// at most max bytes.
func oneLine(s string, max int) string {
	s = ascii(replaceLineEnds(s, " ", '/'))
	if len(s) > max {
		s = s[:max-3] + "..."
	}
	return s
}

// replaceLineEnds puts end for each line end ("\r\n", "\n" or "\r")
// and bar for each '|'; s itself when it has neither, as most lines are.
// A loop, not a strings.Replacer: one built for each line cost a check
// process allocations and first-touch page faults on its trie code
// (docs/performance.md).
func replaceLineEnds(s, end string, bar byte) string {
	i := strings.IndexAny(s, "\r\n|")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(end)
		case '\n':
			b.WriteString(end)
		case '|':
			b.WriteByte(bar)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// longLine is a line of long output: as oneLine, and short enough for
// what the monitoring systems keep.
func longLine(s string) string { return oneLine(s, 300) }

// ascii replaces what is not printable ASCII: "µ" by "u", other
// characters by "?", control characters by a space. Plug-in output is
// read as ASCII by some monitoring systems and shown in web pages and
// mails by all.
func ascii(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == 'µ' || c == 'μ':
			b.WriteByte('u')
		case c == utf8.RuneError || c >= 0x7f:
			b.WriteByte('?')
		case c < 0x20:
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Text formats a result for a person at a terminal; verbose shows the
// conversation of a test that passed too.
func Text(r *probe.Result, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s in %.1f ms\n", r.Type, r.Target, strings.ToUpper(string(r.Status)), msf(r.RTT))
	if r.Error != nil {
		fmt.Fprintf(&b, "error:     %s (%s)\n", r.Error.Code, r.Error.Message)
		if r.Error.Phase != "" {
			fmt.Fprintf(&b, "phase:     %s\n", r.Error.Phase)
		}
		if r.Error.Reply != "" {
			fmt.Fprintf(&b, "server:    %s\n", r.Error.Reply)
		}
		fmt.Fprintf(&b, "detail:    %s\n", r.Error.Detail)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning:   %s\n", w)
	}
	if r.TLSMode != "" {
		fmt.Fprintf(&b, "tls mode:  %s\n", r.TLSMode)
	}
	if t := r.TLS; t != nil {
		if t.Version != "" {
			fmt.Fprintf(&b, "tls:       %s %s\n", t.Version, t.Cipher)
		}
		if t.CertSubject != "" {
			fmt.Fprintf(&b, "cert:      %s, issued by %s\n", t.CertSubject, t.CertIssuer)
			fmt.Fprintf(&b, "expires:   %s (%d days left), verified: %v\n", t.CertNotAfter.Format(time.RFC3339), t.DaysLeft, t.Verified)
		}
		if t.NameMismatch != "" {
			fmt.Fprintf(&b, "not for:   %s (the certificate names %s)\n", t.NameMismatch, strings.Join(t.CertNames, ", "))
		}
	}
	if r.Auth != "" {
		fmt.Fprintf(&b, "auth:      %s\n", r.Auth)
	}
	if r.Delivery > 0 {
		fmt.Fprintf(&b, "delivery:  %.1f ms (SMTP accepted → seen in the mailbox)\n", msf(r.Delivery))
	}
	b.WriteString("phases:\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "  %-18s %8.1f ms\n", p.Name, msf(p.Duration))
	}
	if (verbose || r.Status != probe.StatusUp) && len(r.Transcript) > 0 {
		b.WriteString("transcript:\n")
		for _, l := range r.Transcript {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}
