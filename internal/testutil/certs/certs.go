// Package certs makes the certificates tests need: a CA, and server
// certificates that are valid, expired, not yet valid, for another host, or
// expiring soon.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a test certificate authority.
type CA struct {
	Cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	PEM   []byte
	chain [][]byte // an intermediate's own certificate and those above it, to send with a leaf
}

// NewCA makes a CA valid from an hour ago for ten years.
func NewCA(t testing.TB) *CA {
	t.Helper()
	return newCA(t, nil, "mailmon test CA", time.Now().Add(-time.Hour), time.Now().Add(10*365*24*time.Hour))
}

// newCA makes a CA signed by parent, or self-signed when parent is nil.
func newCA(t testing.TB, parent *CA, name string, notBefore, notAfter time.Time) *CA {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	cert, key := sign(t, tmpl, parent)
	ca := &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}
	if parent != nil {
		ca.chain = append([][]byte{cert.Raw}, parent.chain...)
	}
	return ca
}

// sign makes a key and a certificate of tmpl for it, signed by parent
// (self-signed when nil), with a random serial number.
func sign(t testing.TB, tmpl *x509.Certificate, parent *CA) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.Cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// File writes the CA certificate to a PEM file in a temporary directory.
func (ca *CA) File(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Pool returns a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Leaf describes a server certificate.
type Leaf struct {
	Names     []string // DNS names and IP addresses; default localhost, 127.0.0.1, ::1
	NotBefore time.Time
	NotAfter  time.Time
}

// Issue signs a server certificate.
func (ca *CA) Issue(t testing.TB, l Leaf) tls.Certificate {
	t.Helper()
	if len(l.Names) == 0 {
		l.Names = []string{"localhost", "127.0.0.1", "::1"}
	}
	if l.NotBefore.IsZero() {
		l.NotBefore = time.Now().Add(-time.Hour)
	}
	if l.NotAfter.IsZero() {
		l.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: l.Names[0]},
		NotBefore:   l.NotBefore,
		NotAfter:    l.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range l.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	leaf, key := sign(t, tmpl, ca)
	return tls.Certificate{Certificate: append([][]byte{leaf.Raw}, ca.chain...), PrivateKey: key, Leaf: leaf}
}

// Intermediate is a CA signed by ca, valid from notBefore to notAfter; a
// server certificate it issues is sent with it (a chain of two).
func (ca *CA) Intermediate(t testing.TB, notBefore, notAfter time.Time) *CA {
	t.Helper()
	return newCA(t, ca, "mailmon test intermediate CA", notBefore, notAfter)
}

// ServerConfig is a TLS server configuration presenting cert.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// Expired is a certificate that expired a day ago.
func (ca *CA) Expired(t testing.TB) tls.Certificate {
	return ca.Issue(t, Leaf{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
}

// NotYetValid is a certificate that becomes valid a day from now.
func (ca *CA) NotYetValid(t testing.TB) tls.Certificate {
	return ca.Issue(t, Leaf{NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)})
}

// OtherHost is a valid certificate for a name that is not the test server's.
func (ca *CA) OtherHost(t testing.TB) tls.Certificate {
	return ca.Issue(t, Leaf{Names: []string{"mail.other.example"}})
}

// ExpiringIn is a valid certificate that expires d from now.
func (ca *CA) ExpiringIn(t testing.TB, d time.Duration) tls.Certificate {
	return ca.Issue(t, Leaf{NotAfter: time.Now().Add(d)})
}

// StartHTTPS serves h over HTTPS on 127.0.0.1 (httptest's listener may be
// on ::1) with a certificate of ca, until the test ends.
func (ca *CA) StartHTTPS(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.TLS = ServerConfig(ca.Issue(t, Leaf{}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
