package probe

import (
	"crypto/tls"
	"fmt"
)

// Key exchanges a monitor may choose (tls_key_exchange). Go's default
// offers the hybrid post-quantum X25519MLKEM768 first, then X25519 and the
// NIST curves: a server that knows ML-KEM uses it, and a recorded session
// cannot be decrypted later by a quantum computer. X25519 alone spares the
// client the ML-KEM key generation and decapsulation: 77 KB allocated per
// handshake instead of 123 KB (BenchmarkKeyExchange), and by an earlier
// independent measurement 15-20% less client CPU per handshake (the
// 2026-12-06 bench-daemon run was too loaded to confirm it); a monitor
// that only checks a server's banner and certificate carries nothing worth
// recording.
const (
	KeyExchangeDefault = "default"
	KeyExchangeX25519  = "x25519"
)

// CheckKeyExchange says what is wrong with a tls_key_exchange value, or "".
func CheckKeyExchange(v string) string {
	switch v {
	case "", KeyExchangeDefault, KeyExchangeX25519:
		return ""
	}
	return fmt.Sprintf("%q is neither %s (Go's default: X25519MLKEM768 first) nor %s (X25519 alone, less CPU per handshake)", v, KeyExchangeDefault, KeyExchangeX25519)
}

// curves is the tls.Config's CurvePreferences for a tls_key_exchange: nil
// (Go's default) unless X25519 alone is asked for.
func curves(v string) []tls.CurveID {
	if v == KeyExchangeX25519 {
		return []tls.CurveID{tls.X25519}
	}
	return nil
}
