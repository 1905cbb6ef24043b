package wire

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestTLSNames: the names are crypto/tls's (the version's without its
// space), for every suite and version it knows and for unknown ones, and
// the common ones cost no allocation per handshake.
func TestTLSNames(t *testing.T) {
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := CipherSuiteName(s.ID); got != tls.CipherSuiteName(s.ID) {
			t.Errorf("suite %#04x: %q, want %q", s.ID, got, tls.CipherSuiteName(s.ID))
		}
	}
	if got := CipherSuiteName(0xfefe); got != "0xFEFE" {
		t.Errorf("unknown suite: %q", got)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13, 0x0305} {
		if got, want := VersionName(v), strings.ReplaceAll(tls.VersionName(v), " ", ""); got != want {
			t.Errorf("version %#04x: %q, want %q", v, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = CipherSuiteName(tls.TLS_AES_128_GCM_SHA256) + VersionName(tls.VersionTLS13)
	}); n != 0 {
		t.Errorf("%v allocations to name a TLS 1.3 session, want 0", n)
	}
}
