package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// CertError is a certificate that failed verification.
type CertError struct {
	Err error
}

func (e *CertError) Error() string { return "certificate: " + e.Err.Error() }
func (e *CertError) Unwrap() error { return e.Err }

// TLSInfo is what a person wants to know about a TLS session.
type TLSInfo struct {
	Version      string    `json:"version"`
	Cipher       string    `json:"cipher"`
	CertSubject  string    `json:"cert_subject,omitempty"`
	CertIssuer   string    `json:"cert_issuer,omitempty"`
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
	DaysLeft     int       `json:"days_left"`
	CertNames    []string  `json:"cert_names,omitempty"`
	Verified     bool      `json:"verified"`
}

// tlsConfig builds the client TLS configuration. Go's own verification is
// replaced by the same checks done in VerifyConnection, so that the facts of
// a certificate are recorded even when it is rejected (an expired
// certificate's expiry date is the first thing a person asks for).
func (c *Config) tlsConfig(t *Trace) (*tls.Config, error) {
	if c.CAFile != "" && c.RootCAs == nil {
		if err := c.loadCA(); err != nil {
			return nil, &ConfigError{Errs: []FieldError{{"ca", err.Error()}}}
		}
	}
	roots := c.RootCAs
	name := c.ServerName
	if name == "" {
		name = c.Host
	}
	skip := c.InsecureSkipVerify
	return &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: true, // verified below, always, unless the config says skip
		VerifyConnection: func(cs tls.ConnectionState) error {
			t.setCert(cs, false)
			if skip {
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				return &CertError{Err: fmt.Errorf("the server sent no certificate")}
			}
			opts := x509.VerifyOptions{
				Roots:         roots,
				DNSName:       name,
				Intermediates: x509.NewCertPool(),
				CurrentTime:   t.now(),
			}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
				return &CertError{Err: err}
			}
			t.setCert(cs, true)
			return nil
		},
	}, nil
}

func tlsInfo(cs *tls.ConnectionState, certs tlsCert, now time.Time) *TLSInfo {
	info := &TLSInfo{}
	if cs != nil {
		info.Version = wire.VersionName(cs.Version)
		info.Cipher = tls.CipherSuiteName(cs.CipherSuite)
	}
	if leaf := certs.leaf; leaf != nil {
		info.CertSubject = wire.Sanitize(leaf.Subject.String())
		info.CertIssuer = wire.Sanitize(leaf.Issuer.String())
		info.CertNotAfter = leaf.NotAfter.UTC()
		info.DaysLeft = int(leaf.NotAfter.Sub(now).Hours() / 24)
		if leaf.NotAfter.Before(now) {
			info.DaysLeft = int(leaf.NotAfter.Sub(now).Hours()/24) - 1
		}
		for _, n := range leaf.DNSNames {
			info.CertNames = append(info.CertNames, wire.Sanitize(n))
		}
		for _, ip := range leaf.IPAddresses {
			info.CertNames = append(info.CertNames, ip.String())
		}
		info.Verified = certs.verified
	}
	return info
}
