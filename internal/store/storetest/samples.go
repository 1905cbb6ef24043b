package storetest

import (
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// SampleKinds are the kinds of passed test SampleResult makes, smallest
// first.
var SampleKinds = []string{"tcp", "banner", "starttls"}

// SampleResult is a passed test of kind (one of SampleKinds) as the probe
// reports it against Postfix, for benchmarks: a tcp connect, an smtp
// banner check (EHLO, QUIT) and an smtp STARTTLS check with a verified
// chain. Their JSON is 200–230, ~800 and ~1,500 bytes, as measured of
// real tests. i varies the host (a thousand of them) and the times.
func SampleResult(kind string, at time.Time, i int) *probe.Result {
	host := fmt.Sprintf("mx%d.example.net", i%1000)
	target := host + ":25"
	r := &probe.Result{Type: "smtp", Target: target, Status: probe.StatusUp, Started: at, TLSMode: probe.TLSNone,
		RTT: time.Duration(1000+i%3000) * time.Microsecond}
	connected := "-- connected to " + target
	phase := func(name string, us int) probe.Phase {
		return probe.Phase{Name: name, Duration: time.Duration(us+i%200) * time.Microsecond}
	}
	if kind == "tcp" {
		r.Type, r.Phases, r.Transcript = "tcp", []probe.Phase{phase("connect", 420)}, []string{connected}
		return r
	}
	ehlo := []string{"C: EHLO mailmon.example.org", "S: 250-" + host, "S: 250-PIPELINING", "S: 250-SIZE 10240000", "S: 250-VRFY", "S: 250-ETRN"}
	rest := []string{"S: 250-ENHANCEDSTATUSCODES", "S: 250-8BITMIME", "S: 250-DSN", "S: 250-SMTPUTF8", "S: 250 CHUNKING"}
	quit := []string{"C: QUIT", "S: 221 2.0.0 Bye"}
	greeting := "220 " + host + " ESMTP Postfix"
	r.Details = map[string]any{"greeting": greeting, "size_limit": 10240000,
		"extensions": []string{"PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}}
	r.Transcript = append([]string{connected, "S: " + greeting}, ehlo...)
	r.Transcript = append(append(r.Transcript, "S: 250-STARTTLS"), rest...)
	if kind == "banner" {
		r.Phases = []probe.Phase{phase("connect", 740), phase("greeting", 60), phase("capabilities", 250), phase("quit", 230)}
		r.Transcript = append(r.Transcript, quit...)
		return r
	}
	r.RTT += 3 * time.Millisecond
	r.Phases = []probe.Phase{phase("connect", 450), phase("greeting", 10), phase("capabilities", 120), phase("starttls", 830),
		phase("tls", 2860), phase("capabilities_tls", 220), phase("quit", 380)}
	r.TLSMode = probe.TLSStartTLS
	r.TLS = &probe.TLSInfo{Version: "TLS1.3", Cipher: "TLS_AES_128_GCM_SHA256", CertSubject: "CN=" + host + ",O=mailmon bench", CertIssuer: "CN=mailmon bench CA,O=mailmon bench",
		CertNotBefore: at.Add(-24 * time.Hour).Truncate(time.Second).UTC(), CertNotAfter: at.Add(399 * 24 * time.Hour).Truncate(time.Second).UTC(),
		DaysLeft: 399, CertNames: []string{host, "mail.example.net", "127.0.0.1"}, Verified: true}
	r.Transcript = append(r.Transcript, "C: STARTTLS", "S: 220 2.0.0 Ready to start TLS", "-- TLS handshake done: TLS1.3 TLS_AES_128_GCM_SHA256")
	r.Transcript = append(append(append(r.Transcript, ehlo...), rest...), quit...)
	return r
}
