package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

func TestNagiosFailureLine(t *testing.T) {
	r := &probe.Result{Type: "imap", Target: "[::1]:993", Status: probe.StatusDown,
		Error: &probe.Error{Code: probe.AuthFailed, Message: probe.AuthFailed.Message(), Reply: "a1 NO [AUTHENTICATIONFAILED] bad|pipe\r\nnext"}}
	var f flags
	code, pd := f.judge(r)
	got := Nagios(r, pd, false)
	want := "IMAP CRITICAL - [::1]:993: auth_failed: The server rejected the credentials (server said: a1 NO [AUTHENTICATIONFAILED] bad/pipe next)|time=0.000000s;;;0\n"
	if got != want || code != Critical {
		t.Errorf("exit %d, got  %q\nwant %q", code, got, want)
	}
}

func TestNagiosRoundTrip(t *testing.T) {
	r := &probe.Result{Type: "imap-roundtrip", Target: "127.0.0.1:993", Status: probe.StatusWarn,
		RTT: 250 * time.Millisecond, Delivery: 42 * time.Millisecond,
		Phases: []probe.Phase{{Name: "smtp_connect", Duration: time.Millisecond}, {Name: "poll", Duration: 2 * time.Millisecond}, {Name: "poll", Duration: 3 * time.Millisecond}},
		Error:  &probe.Error{Code: probe.DeliveredToJunk, Message: probe.DeliveredToJunk.Message()}}
	f := flags{critDelivery: mustRange(t, "30")} // delivery over 30 s is CRITICAL
	f.warnDelivery = mustRange(t, "0.01")
	code, pd := f.judge(r)
	got := Nagios(r, pd, false)
	want := "IMAP-ROUNDTRIP WARNING - 127.0.0.1:993 responded in 250.0 ms, probe delivered in 42.0 ms; delivered_to_junk: The probe message arrived in the junk folder; delivery time 0.042 s is over 0.01: WARNING" +
		"|time=0.250000s;;;0 delivery=0.042000s;0.01;30;0 smtp_connect=0.001000s;;;0 poll=0.002000s;;;0 poll_2=0.003000s;;;0\n"
	if got != want || code != Warning {
		t.Errorf("exit %d, got  %q\nwant %q", code, got, want)
	}
}

func mustRange(t *testing.T, s string) Range {
	t.Helper()
	r, err := ParseRange(s, parseSeconds)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestJudge: -w and -c on the response time, -D's CRIT on the
// certificate, the greeting's --expect; the worst wins, a failure stays
// a failure.
func TestJudge(t *testing.T) {
	cert := &probe.TLSInfo{Version: "TLS1.3", CertNotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), DaysLeft: 20}
	ok := func() *probe.Result {
		return &probe.Result{Type: "smtp", Target: "127.0.0.1:25", Status: probe.StatusUp, RTT: 1500 * time.Millisecond,
			TLS: cert, Details: map[string]any{"greeting": "220 mx.example.test ESMTP Postfix"}}
	}
	tests := []struct {
		name    string
		f       flags
		r       *probe.Result
		code    int
		line    string // in the status line
		perf    string // in the perfdata
		noMatch string
	}{
		{name: "under both", f: flags{warn: mustRange(t, "2"), crit: mustRange(t, "5")}, r: ok(), code: OK, perf: "time=1.500000s;2;5;0 "},
		{name: "over -w", f: flags{warn: mustRange(t, "1"), crit: mustRange(t, "5")}, r: ok(), code: Warning, line: "response time 1.500 s is over 1: WARNING", perf: "time=1.500000s;1;5;0"},
		{name: "over -c", f: flags{warn: mustRange(t, "1"), crit: mustRange(t, "1.2")}, r: ok(), code: Critical, line: "SMTP CRITICAL - ", perf: "time=1.500000s;1;1.2;0"},
		{name: "inside @", f: flags{warn: mustRange(t, "@1:2")}, r: ok(), code: Warning, line: "is inside @1:2"},
		{name: "cert under CRIT days", f: flags{certDays: certDays{30, 21}}, r: ok(), code: Critical, line: "certificate expires in 20 days (2027-01-01), under 21: CRITICAL", perf: "cert_days_left=20;30:;21:"},
		{name: "cert over CRIT days", f: flags{certDays: certDays{30, 14}}, r: ok(), code: OK, perf: "cert_days_left=20;30:;14:"},
		{name: "greeting without --expect", f: flags{expect: "Exim"}, r: ok(), code: Warning, line: `the greeting does not contain "Exim"`},
		{name: "greeting with --expect", f: flags{expect: "Postfix"}, r: ok(), code: OK, noMatch: "greeting"},
		{name: "a failure stays CRITICAL, not judged again", f: flags{warn: mustRange(t, "1")},
			r:    &probe.Result{Type: "smtp", Target: "h:25", Status: probe.StatusDown, RTT: 3 * time.Second, Error: &probe.Error{Code: probe.ConnectFailed, Message: "refused"}},
			code: Critical, line: "connect_failed", noMatch: "WARNING"},
		{name: "a config error is UNKNOWN", r: &probe.Result{Type: "smtp", Status: probe.StatusDown, Error: &probe.Error{Code: probe.ConfigMissing, Message: "no"}}, code: Unknown, line: "SMTP UNKNOWN - "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, pd := tt.f.judge(tt.r)
			out := Nagios(tt.r, pd, false)
			line, perf, _ := strings.Cut(out, "|")
			if code != tt.code || !strings.Contains(line, tt.line) || !strings.Contains(perf, tt.perf) || (tt.noMatch != "" && strings.Contains(line, tt.noMatch)) {
				t.Errorf("exit %d (want %d): %q", code, tt.code, out)
			}
			if !strings.HasPrefix(line, "SMTP "+stateName(code)+" - ") {
				t.Errorf("the status line does not say %s: %q", stateName(code), line)
			}
		})
	}
}

// TestNagiosASCIIAndVerbose: the status line is ASCII on one line; -v
// puts the conversation between it and the perfdata, as long output.
func TestNagiosASCIIAndVerbose(t *testing.T) {
	r := &probe.Result{Type: "smtp", Target: "127.0.0.1:25", Status: probe.StatusWarn, RTT: time.Microsecond,
		Warnings:   []string{"took 1µs — fast\nsecond line"},
		Transcript: []string{"S: 220 mx ESMTP", "C: EHLO me", "S: 250 ok|fine"}}
	var f flags
	_, pd := f.judge(r)
	got := Nagios(r, pd, false)
	want := "SMTP WARNING - 127.0.0.1:25 responded in 0.0 ms; took 1us ? fast second line|time=0.000001s;;;0\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = Nagios(r, pd, true)
	want = "SMTP WARNING - 127.0.0.1:25 responded in 0.0 ms; took 1us ? fast second line\nS: 220 mx ESMTP\nC: EHLO me\nS: 250 ok/fine\n|time=0.000001s;;;0\n"
	if got != want {
		t.Errorf("verbose: got  %q\nwant %q", got, want)
	}
	for i, c := range got {
		if c > 0x7e || (c < 0x20 && c != '\n') {
			t.Errorf("byte %d of the output is %q", i, c)
		}
	}
}

// TestOneLineAndLabels: line ends and '|' are replaced as the
// guidelines need (one status line; perfdata not cut short), the rest
// left as it is.
func TestOneLineAndLabels(t *testing.T) {
	for _, c := range []struct{ in, line, label string }{
		{"plain", "plain", "plain"},
		{"a\r\nb", "a b", "a__b"},
		{"a\n\rb", "a  b", "a__b"},
		{"a\rb\nc", "a b c", "a_b_c"},
		{"x|y", "x/y", "x_y"},
		{"\r\n\r\n", "  ", "____"},
		{"1µs|\n", "1us/ ", "1us__"},
		{"ends\r", "ends ", "ends_"},
		{"a b\x00c\xff", "a b c?", "'a b c?'"},
	} {
		if got := oneLine(c.in, 300); got != c.line {
			t.Errorf("oneLine(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := quoteLabel(c.in); got != c.label {
			t.Errorf("quoteLabel(%q) = %q, want %q", c.in, got, c.label)
		}
	}
}

// TestOneLineAllocations: a line or label with nothing to replace costs
// no allocation. Each check process formats a status line and a label per
// perfdata item once: a strings.Replacer built per call (as before) was
// allocations and first-touch page faults at every check (docs/performance.md).
func TestOneLineAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	const line = "SMTP OK - 127.0.0.1:25 responded in 4.0 ms"
	if n := testing.AllocsPerRun(100, func() { _ = oneLine(line, 300) }); n != 0 {
		t.Errorf("oneLine of a clean line: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = quoteLabel("greeting") }); n != 0 {
		t.Errorf("quoteLabel of a clean label: %v allocations, want 0", n)
	}
}
