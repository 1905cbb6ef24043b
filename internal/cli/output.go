package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// Nagios formats a result as the Monitoring Plugins guidelines ask: one
// status line, then perfdata with the total and every phase in seconds.
func Nagios(r *probe.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s - ", strings.ToUpper(r.Type), nagiosState(r))
	switch {
	case r.Error != nil && r.Status == probe.StatusDown:
		fmt.Fprintf(&b, "%s: %s: %s", r.Target, r.Error.Code, r.Error.Message)
		if r.Error.Reply != "" {
			fmt.Fprintf(&b, " (server said: %s)", oneLine(r.Error.Reply))
		} else if r.Error.Detail != "" {
			fmt.Fprintf(&b, " (%s)", oneLine(r.Error.Detail))
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
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "; %s", w)
		}
	}
	b.WriteString("|")
	fmt.Fprintf(&b, "time=%.6fs;;;0", r.RTT.Seconds())
	if r.Delivery > 0 {
		fmt.Fprintf(&b, " delivery=%.6fs;;;0", r.Delivery.Seconds())
	}
	for _, p := range r.Phases {
		fmt.Fprintf(&b, " %s=%.6fs;;;0", p.Name, p.Duration.Seconds())
	}
	if r.TLS != nil && !r.TLS.CertNotAfter.IsZero() {
		fmt.Fprintf(&b, " cert_days_left=%d;;;", r.TLS.DaysLeft)
	}
	b.WriteString("\n")
	return b.String()
}

func nagiosState(r *probe.Result) string {
	switch exitCode(r) {
	case ExitOK:
		return "OK"
	case ExitWarning:
		return "WARNING"
	case ExitCritical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// oneLine keeps the status line a line, and perfdata's separator out of it.
func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", "/").Replace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Text formats a result for a person at a terminal.
func Text(r *probe.Result) string {
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
	if r.Status != probe.StatusUp && len(r.Transcript) > 0 {
		b.WriteString("transcript:\n")
		for _, l := range r.Transcript {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}
