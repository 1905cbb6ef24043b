package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// certPair holds serve's TLS certificate, read again on SIGHUP: a renewed
// certificate (certbot's, say) is served to new connections without a
// restart; connections open keep theirs.
type certPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func loadCerts(certFile, keyFile string) (*certPair, error) {
	c := &certPair{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the pair again; on failure the one served stays.
func (c *certPair) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	if pair.Leaf == nil && len(pair.Certificate) > 0 {
		pair.Leaf, _ = x509.ParseCertificate(pair.Certificate[0])
	}
	c.cur.Store(&pair)
	return nil
}

// reloadLogged reloads and logs how it went.
func (c *certPair) reloadLogged(log *slog.Logger) {
	if err := c.reload(); err != nil {
		log.Error("SIGHUP: reading the TLS certificate failed; the previous one is served still", "err", err)
		return
	}
	attrs := []any{"cert", c.certFile}
	if l := c.cur.Load().Leaf; l != nil {
		attrs = append(attrs, "not_after", l.NotAfter.UTC())
	}
	log.Info("SIGHUP: TLS certificate reloaded", attrs...)
}

func (c *certPair) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
