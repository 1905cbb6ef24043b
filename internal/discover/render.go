package discover

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe/pingprobe"
	"github.com/mailmon/mailmon/internal/probe/tcpprobe"
)

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ANSI colours, used only when the output is a terminal.
const (
	red    = "\033[31m"
	yellow = "\033[33m"
	green  = "\033[32m"
	dim    = "\033[2m"
	reset  = "\033[0m"
)

func paint(on bool, colour, s string) string {
	if !on {
		return s
	}
	return colour + s + reset
}

func gradeColour(g Grade) string {
	switch g {
	case GradeBad:
		return red
	case GradeWeak:
		return yellow
	}
	return green
}

func dash(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, " ")
}

// WriteTable writes the report for a person: one table of every port, then
// the facts and verdict reasons of each service that answered. colour adds
// ANSI colours (for a terminal only).
func WriteTable(w io.Writer, r *Report, colour bool) error {
	if r.Domain {
		fmt.Fprintf(w, "%s: mail domain", r.Target)
		if len(r.Hosts) > 0 {
			fmt.Fprintf(w, ", %d MX host(s) in preference order", len(r.Hosts))
		}
		fmt.Fprintln(w)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "%s: %s\n", r.Target, r.Error)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSERVICE\tPORT\tSTATE\tTLS\tTLS VERSIONS\tAUTH BEFORE TLS\tAUTH AFTER TLS\tVERDICT")
	for _, h := range r.Hosts {
		name := h.Name
		if h.Preference != nil {
			name += " (MX " + strconv.Itoa(int(*h.Preference)) + ")"
		}
		if h.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t%s\t\t\t\t\t\n", name, paint(colour, red, "unresolved"))
			continue
		}
		for _, s := range h.Services {
			if !s.Open {
				state := "closed"
				if s.ErrorCode != "" && s.ErrorCode != "connect_failed" {
					state = string(s.ErrorCode)
				}
				verdict := ""
				if s.Verdict.Grade != "" {
					verdict = paint(colour, gradeColour(s.Verdict.Grade), string(s.Verdict.Grade))
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\t\t\t\t%s\n", name, s.Name, s.Port, paint(colour, dim, state), verdict)
				continue
			}
			mode := s.TLSMode
			if s.TLS != nil {
				mode += " " + s.TLS.Version
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\topen\t%s\t%s\t%s\t%s\t%s\n", name, s.Name, s.Port, mode,
				dash(s.TLSVersions), dash(s.AuthBeforeTLS), dash(s.AuthAfterTLS),
				paint(colour, gradeColour(s.Verdict.Grade), string(s.Verdict.Grade)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range r.Hosts {
		if h.Error != "" {
			fmt.Fprintf(w, "\n%s: %s\n", h.Name, h.Error)
			continue
		}
		for _, s := range h.Services {
			if s.Open || s.Verdict.Grade != "" {
				writeService(w, h, &s, colour)
			}
		}
	}
	if len(r.DomainChecks) > 0 {
		fmt.Fprintf(w, "\n%s: the domain's records\n", r.Target)
		for _, c := range r.DomainChecks {
			mc := dim // not published: nothing to judge
			if c.Grade != "" {
				mc = gradeColour(c.Grade)
			}
			fmt.Fprintf(w, "  %s %s\n", paint(colour, mc, checkMark(c)), oneLine(c.Message))
		}
	}
	fmt.Fprintf(w, "\n(%.0f ms)\n", r.TookMS)
	return nil
}

// checkMark is a domain check's mark: its grade when published, "-"
// when not.
func checkMark(c DomainCheck) string {
	if c.Grade == "" {
		return fmt.Sprintf("%-4s %s", "-", c.Type)
	}
	return fmt.Sprintf("%-4s %s", c.Grade, c.Type)
}

// oneLine keeps a message on one line (a table's, a YAML comment's).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func writeService(w io.Writer, h Host, s *Service, colour bool) {
	addr := h.Name
	if len(h.Addresses) > 0 && h.Addresses[0] != h.Name {
		addr += " [" + h.Addresses[0] + "]"
	}
	fmt.Fprintf(w, "\n%s %s port %d: %s\n", addr, s.Name, s.Port,
		paint(colour, gradeColour(s.Verdict.Grade), strings.ToUpper(string(s.Verdict.Grade))))
	line := func(k, format string, args ...any) { fmt.Fprintf(w, "  %-13s %s\n", k, fmt.Sprintf(format, args...)) }
	line("greeting", "%s", s.Greeting)
	switch {
	case s.TLS != nil:
		line("tls", "%s (%s, %s)", s.TLSMode, s.TLS.Version, s.TLS.Cipher)
	case s.Implicit:
		line("tls", "implicit TLS expected, no handshake succeeded")
	case s.StartTLS:
		line("tls", "STARTTLS advertised, TLS could not be started")
	default:
		line("tls", "none: STARTTLS not advertised")
	}
	if len(s.TLSVersions) > 0 {
		line("tls versions", "%s", strings.Join(s.TLSVersions, " "))
	}
	if c := s.Cert; c != nil {
		line("certificate", "%s, issued by %s", c.Subject, c.Issuer)
		ok := "verifies for " + c.VerifiedFor
		if !c.Verified {
			ok = "does NOT verify for " + c.VerifiedFor + ": " + c.VerifyError
		}
		line("", "expires %s (%d days), %s", c.NotAfter.Format("2006-01-02"), c.DaysLeft, ok)
	}
	if !s.Implicit {
		line("auth", "before TLS: %s; after TLS: %s", dash(s.AuthBeforeTLS), dash(s.AuthAfterTLS))
	} else {
		line("auth", "%s", dash(s.AuthAfterTLS))
	}
	if s.SizeLimit > 0 {
		line("size limit", "%d bytes", s.SizeLimit)
	}
	if len(s.Extensions) > 0 {
		line("extensions", "%s", strings.Join(s.Extensions, " "))
	}
	if len(s.Capabilities) > 0 {
		line("capabilities", "%s", strings.Join(s.Capabilities, " "))
	}
	if !s.Implicit && s.StartTLS {
		line("injection", "%s: %s", s.Injection, s.InjectionDetail)
	}
	if s.Error != "" {
		line("error", "%s: %s", s.ErrorCode, s.Error)
	}
	for _, r := range s.Verdict.Reasons {
		fmt.Fprintf(w, "  %s %s: %s\n", paint(colour, gradeColour(r.Grade), "✗ "+string(r.Grade)), r.Code, r.Message)
	}
}

// Proposal is the configuration discovery proposes: per host a device
// with a ping monitor, a tcp monitor for each service that answered
// (depending on the ping), and the monitor of the type that declares the
// service (package kinds) depending on its tcp monitor, each in the TLS
// mode the service offers.
func Proposal(r *Report, o Options) *config.File {
	byName, _ := services()
	f := &config.File{}
	for _, h := range r.Hosts {
		var open []Service
		for _, s := range h.Services {
			if s.Open {
				open = append(open, s)
			}
		}
		if len(open) == 0 {
			continue
		}
		d := config.Device{Name: trimName(h.Name), Address: h.Name}
		d.Monitors = append(d.Monitors, config.Monitor{Name: "Ping", Type: pingprobe.Name})
		for _, s := range open {
			tcp := fmt.Sprintf("TCP %d", s.Port)
			d.Monitors = append(d.Monitors, config.Monitor{Name: tcp, Type: tcpprobe.Name, Port: s.Port, DependsOn: []string{"Ping"}})
			info, ok := byName[s.Name]
			if !ok {
				continue // no type declares it: only its port is watched
			}
			m := config.Monitor{
				Name: fmt.Sprintf("%s %d", displayName(s.Name), s.Port),
				Type: info.kind.Name, Port: s.Port, TLS: s.TLSMode, DependsOn: []string{tcp},
			}
			if s.TLSMode != "none" {
				m.CA, m.ServerName = o.CAFile, o.ServerName
			}
			if info.kind.Shows("ehlo") {
				m.EHLO = o.EHLOName
			}
			d.Monitors = append(d.Monitors, m)
		}
		f.Devices = append(f.Devices, d)
	}
	domainMonitors(r, o, f)
	return f
}

func displayName(service string) string {
	if service == "submission" {
		return "Submission"
	}
	return strings.ToUpper(service)
}

func trimName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// WriteYAML writes the proposal for "mailmon apply -f", headed by comments
// that sum up each service's verdict.
func WriteYAML(w io.Writer, r *Report, o Options) error {
	fmt.Fprintf(w, "# mailmon discover %s: proposed monitors for \"mailmon apply -f\"\n", r.Target)
	for _, h := range r.Hosts {
		for _, s := range h.Services {
			if !s.Open {
				continue
			}
			fmt.Fprintf(w, "# %s %s %d: %s", h.Name, s.Name, s.Port, s.Verdict.Grade)
			if codes := s.Verdict.Codes(); len(codes) > 0 {
				fmt.Fprintf(w, " (%s)", strings.Join(codes, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	for _, c := range r.DomainChecks {
		fmt.Fprintf(w, "# %s %s\n", checkMark(c), oneLine(c.Message))
	}
	b, err := config.Marshal(Proposal(r, o))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
