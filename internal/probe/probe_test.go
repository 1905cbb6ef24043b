package probe

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Code
	}{
		{&ConfigError{}, ConfigMissing},
		{&wire.DialError{Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, DNSFailed},
		{&wire.DialError{Err: syscall.ECONNREFUSED}, ConnectFailed},
		{&wire.DialError{Err: os.ErrDeadlineExceeded}, Timeout},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), Timeout},
		{context.DeadlineExceeded, Timeout},
		{io.EOF, Disconnected},
		{io.ErrUnexpectedEOF, Disconnected},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), Disconnected},
		{wire.Violation("bad"), ProtocolViolation},
		{&wire.ServerError{Reply: "421 busy"}, ServiceError},
		{&wire.ServerError{Reply: "454 no TLS", Err: wire.ErrTLSUnavailable}, TLSUnavailable},
		{&PlaintextRefusedError{Mech: "CRAM-MD5"}, TLSUnavailable},
		{&sasl.UnsupportedError{Want: "PLAIN", Offered: []string{"CRAM-MD5"}}, AuthUnsupported},
		{&wire.AuthError{Err: &sasl.UnsupportedError{Want: "APOP"}}, AuthUnsupported},
		{&wire.AuthError{Reply: "535 no"}, AuthFailed},
		{&wire.TLSError{Err: &CertError{Err: x509.UnknownAuthorityError{}}}, CertInvalid},
		{&wire.TLSError{Err: x509.HostnameError{}}, CertInvalid},
		{&wire.TLSError{Err: errors.New("tls: first record does not look like a TLS handshake")}, TLSFailed},
		{&wire.TLSError{Err: io.EOF}, Disconnected},
		{&wire.TLSError{Err: os.ErrDeadlineExceeded}, Timeout},
		{&CodeError{Code: SendRejected, Err: &wire.ServerError{Reply: "550"}}, SendRejected},
		{&StepError{Phase: "x", Code: NotDelivered, Err: errors.New("x")}, NotDelivered},
		{&CodeError{Code: NotDelivered, Err: &StepError{Phase: "wait", Code: Timeout, Err: os.ErrDeadlineExceeded}}, NotDelivered},
		{&Warning{Code: DeliveredToJunk, Err: errors.New("junk")}, DeliveredToJunk},
		{errors.New("something else"), ProtocolViolation},
	}
	for _, tc := range tests {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	for _, c := range Codes() {
		if c.Message() == string(c) {
			t.Errorf("code %s has no message", c)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := Config{Password: "hunter22"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "hunter22") {
			t.Errorf("password printed: %s", s)
		}
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), "hunter22") {
		t.Errorf("password in JSON: %s", b)
	}
}

func TestResultJSON(t *testing.T) {
	r := &Result{Type: "smtp", Target: "[::1]:25", Status: StatusDown, Started: time.Unix(1700000000, 0),
		RTT: 12345 * time.Microsecond, Phases: []Phase{{"connect", 250 * time.Microsecond}},
		Error: &Error{Code: AuthFailed, Message: AuthFailed.Message(), Detail: "d", Reply: "535 no"},
		TLS:   &TLSInfo{Version: "TLS1.3", Cipher: "TLS_AES_128_GCM_SHA256", DaysLeft: 30}, TLSMode: TLSStartTLS,
		Transcript: []string{"S: 220 x"}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"type", "target", "status", "rtt_ms", "phases", "error", "tls", "transcript", "tls_mode"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing from %s", k, b)
		}
	}
	if _, ok := m["delivery_ms"]; ok {
		t.Errorf("delivery_ms present for a non-round-trip result: %s", b)
	}
	if m["rtt_ms"].(float64) != 12.345 {
		t.Errorf("rtt_ms = %v", m["rtt_ms"])
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.RTT != r.RTT || back.Error.Code != AuthFailed || back.Phases[0] != r.Phases[0] || !back.Started.Equal(r.Started) {
		t.Errorf("round trip lost data: %+v", back)
	}
}
