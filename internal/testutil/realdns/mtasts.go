package realdns

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// PolicySite is one domain's MTA-STS policy host as PolicyServer serves
// it.
type PolicySite struct {
	Cert        tls.Certificate // presented for mta-sts.DOMAIN; none: the handshake fails
	ContentType string          // sent as is
	Policy      string
}

// PolicyServer serves MTA-STS policies over HTTPS on 127.0.0.1 at a free
// port >= 20000 until the test ends: for each domain D of sites,
// https://mta-sts.D/.well-known/mta-sts.txt, the certificate chosen by
// SNI and the policy by Host. hits counts the requests. The prober
// fetches from it through domainprobe.MTASTSAt(port), the policy hosts
// resolving to 127.0.0.1 in the test's zones.
func PolicyServer(t testing.TB, sites map[string]PolicySite) (port int, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			s, ok := sites[strings.TrimPrefix(r.Host, "mta-sts.")]
			if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", s.ContentType)
			fmt.Fprint(w, s.Policy)
		}),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			s, ok := sites[strings.TrimPrefix(h.ServerName, "mta-sts.")]
			if !ok || len(s.Cert.Certificate) == 0 {
				return nil, fmt.Errorf("no certificate for %q", h.ServerName)
			}
			return &s.Cert, nil
		}},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // the refused handshakes are the point
	}
	var l net.Listener
	for range 20 {
		ports, err := realmail.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))); err == nil {
			break
		}
	}
	if l == nil {
		t.Fatal("realdns: no free port for the policy server")
	}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port, hits
}

// STSVariants serves the policies of three MTA-STS domains under
// sts.test, with certificates of ca: good.sts.test (Up),
// expired.sts.test (its policy host's certificate expired: cert_invalid)
// and uncovered.sts.test (its MX is not covered by the policy:
// policy_mismatch). It returns their zone, to serve with Start, and the
// policy server's port and hits.
func STSVariants(t testing.TB, ca *certs.CA) (zone Zone, port int, hits *atomic.Int32) {
	t.Helper()
	sites := map[string]PolicySite{}
	var b strings.Builder
	for _, name := range []string{"good", "expired", "uncovered"} {
		d := name + ".sts.test"
		leaf := certs.Leaf{Names: []string{"mta-sts." + d}}
		if name == "expired" {
			leaf.NotBefore, leaf.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
		}
		sites[d] = PolicySite{Cert: ca.Issue(t, leaf), ContentType: "text/plain",
			Policy: fmt.Sprintf("version: STSv1\r\nmode: enforce\r\nmx: mx1.%s\r\nmax_age: 604800\r\n", d)}
		mx := "mx1"
		if name == "uncovered" {
			mx = "mx2"
		}
		fmt.Fprintf(&b, "_mta-sts.%s TXT \"v=STSv1; id=1\"\n%s MX 10 %s.%s\n%s.%s A 192.0.2.1\nmta-sts.%s A 127.0.0.1\n", name, name, mx, name, mx, name, name)
	}
	port, hits = PolicyServer(t, sites)
	return Zone{Name: "sts.test", Records: b.String()}, port, hits
}
