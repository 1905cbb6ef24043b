package realdns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"
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

// OldCert is another certificate for localhost, expired: the one a TLSA
// record still names after a renewal.
func OldCert(t testing.TB) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-400 * 24 * time.Hour), NotAfter: time.Now().Add(-30 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
