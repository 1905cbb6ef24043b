package realdns

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"testing"
)

// Cert reads the first certificate of a PEM file (the harness Postfix's
// realmail.Env.CertFile), for TLSA records that name it.
func Cert(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil {
		t.Fatalf("%s holds no PEM", file)
	}
	c, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TLSA311 is the data of a "3 1 1" TLSA record of cert: DANE-EE, the
// SHA-256 of its public key.
func TLSA311(cert *x509.Certificate) string {
	h := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "3 1 1 " + hex.EncodeToString(h[:])
}

// TLSARecords are zone lines giving name (relative to the zone) the
// address 127.0.0.1 and, at _PORT._tcp.name, one TLSA record per data.
func TLSARecords(name string, port int, data ...string) string {
	s := name + " A 127.0.0.1\n"
	for _, d := range data {
		s += fmt.Sprintf("_%d._tcp.%s TLSA %s\n", port, name, d)
	}
	return s
}
