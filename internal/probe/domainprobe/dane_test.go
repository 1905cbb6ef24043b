package domainprobe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

// DANETestZones are the zones of the DANE tests: mx.dane.test and its
// variants all at 127.0.0.1, TLSA records at port, for the harness's
// Postfix; plain.test is unsigned.
func DANETestZones(port int, cur, old *x509.Certificate) []realdns.Zone {
	now, was := realdns.TLSA311(cur), realdns.TLSA311(old)
	full := sha512.Sum512(cur.Raw)
	next := fmt.Sprintf("3 1 1 %x", sha256.Sum256([]byte("the next key")))
	bogus := fmt.Sprintf("%x", sha256.Sum256([]byte("a record to tamper with")))
	signed := realdns.Zone{Name: "dane.test", Records: realdns.TLSARecords("mx", port, now, next) +
		realdns.TLSARecords("full", port, "3 0 2 "+hex.EncodeToString(full[:]), next) +
		realdns.TLSARecords("single", port, now) +
		realdns.TLSARecords("renewed", port, was, next) +
		realdns.TLSARecords("pkix", port, "1"+now[1:]) +
		realdns.TLSARecords("bogus", port, "3 1 1 "+bogus) +
		realdns.TLSARecords("none", port),
		Tamper: [][2]string{{bogus, strings.TrimPrefix(now, "3 1 1 ")}}}
	plain := realdns.Zone{Name: "plain.test", Unsigned: true, Records: realdns.TLSARecords("mx", port, now)}
	return []realdns.Zone{signed, plain}
}

// TestDANEAgainstPostfix: TLSA records NSD serves, signed, validated by
// unbound, matched against the certificate the harness's real Postfix
// presents after STARTTLS.
func TestDANEAgainstPostfix(t *testing.T) {
	e := realmail.Start(t)
	cur, old := realdns.Cert(t, e.CertFile), realdns.OldCert(t)
	res := realdns.Start(t, DANETestZones(e.SMTP, cur, old)...).Resolver
	for _, c := range []struct {
		host string
		want want
	}{
		{"mx.dane.test", want{probe.StatusUp, "", ""}},
		{"127.0.0.1 domain mx.dane.test", want{probe.StatusUp, "", ""}},
		{"127.0.0.1", want{probe.StatusDown, probe.ConfigMissing, "DANE's TLSA records are found by the mail server's name"}},
		{"full.dane.test", want{probe.StatusUp, "", ""}},
		{"single.dane.test", want{probe.StatusWarn, probe.RecordMissing, "a rollover will break DANE"}},
		{"renewed.dane.test", want{probe.StatusDown, probe.TLSAMismatch, "public key SHA-256 " + spkiSHA256(cur)}},
		{"pkix.dane.test", want{probe.StatusWarn, probe.RecordInvalid, "which SMTP senders ignore"}},
		{"bogus.dane.test", want{probe.StatusDown, probe.DNSSECInvalid, "do not validate"}},
		{"mx.plain.test", want{probe.StatusDown, probe.DNSSECInvalid, "DANE needs DNSSEC"}},
		{"none.dane.test", want{probe.StatusDown, probe.RecordMissing, "has no TLSA records"}},
	} {
		t.Run(c.host, func(t *testing.T) {
			host, domain, _ := strings.Cut(c.host, " domain ")
			r := run(t, DANEKind(), probe.Config{Host: host, Domain: domain, Port: e.SMTP, DNSServer: res})
			check(t, c.host, r, c.want)
			if c.host == "renewed.dane.test" && (r.Error == nil || !strings.Contains(r.Error.Detail, realdns.TLSA311(old))) {
				t.Errorf("the mismatch does not name what the records want: %+v", r.Error)
			}
		})
	}
}

// TestDANEMatching: usages, selectors and matching types against a chain
// of a test CA: DANE-TA checks the chain and the name, DANE-EE neither.
func TestDANEMatching(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "TA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mx.example.test"}, DNSNames: []string{"mx.example.test"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)} // expired
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	chain := []*x509.Certificate{leaf, ca}
	h256 := func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
	h512 := func(b []byte) []byte { h := sha512.Sum512(b); return h[:] }
	goodT := *leafT
	goodT.SerialNumber, goodT.NotAfter = big.NewInt(3), time.Now().Add(time.Hour)
	goodDER, _ := x509.CreateCertificate(rand.Reader, &goodT, ca, &key.PublicKey, caKey)
	good, _ := x509.ParseCertificate(goodDER)
	tr := probe.NewTrace(t.Context(), time.Now)
	for _, c := range []struct {
		name  string
		r     tlsa
		host  string
		match bool
		valid bool // the chain of the unexpired leaf
	}{
		{"3 0 0 full leaf, expired: dates unchecked", tlsa{3, 0, 0, leaf.Raw}, "other.test", true, false},
		{"3 1 1", tlsa{3, 1, 1, h256(leaf.RawSubjectPublicKeyInfo)}, "other.test", true, false},
		{"3 1 2", tlsa{3, 1, 2, h512(leaf.RawSubjectPublicKeyInfo)}, "", true, false},
		{"3 0 1 of the CA: not the leaf", tlsa{3, 0, 1, h256(ca.Raw)}, "", false, false},
		{"2 0 1 of the CA, expired leaf", tlsa{2, 0, 1, h256(ca.Raw)}, "mx.example.test", false, false},
		{"2 0 1 of the CA, valid leaf", tlsa{2, 0, 1, h256(ca.Raw)}, "mx.example.test", true, true},
		{"2 1 0 of the CA key, valid leaf", tlsa{2, 1, 0, ca.RawSubjectPublicKeyInfo}, "mx.example.test", true, true},
		{"2 0 1 of the CA, valid leaf, another name", tlsa{2, 0, 1, h256(ca.Raw)}, "other.test", false, true},
		{"2 1 1 of the leaf: not a TA", tlsa{2, 1, 1, h256(leaf.RawSubjectPublicKeyInfo)}, "mx.example.test", false, false},
	} {
		got, _ := daneMatch([]tlsa{c.r}, chain, c.host, tr)
		if c.valid {
			got, _ = daneMatch([]tlsa{c.r}, []*x509.Certificate{good, ca}, c.host, tr)
		}
		if (got != nil) != c.match {
			t.Errorf("%s: matched %v, want %v", c.name, got != nil, c.match)
		}
	}
}
