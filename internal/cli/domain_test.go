package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestDiscoverApplyDomainHealth is issue 28's "done when": "mailmon
// discover DOMAIN --output yaml | mailmon apply -f -" against NSD (signed
// zones) and a validating unbound publishing every record of the harness
// Postfix's domain sets up its blocklist, SPF, DMARC, DKIM, MTA-STS,
// TLS-RPT, DANE and reverse DNS monitors next to its server's, on a fresh
// SQLite database; the daemon's engine tests each once and every one is
// Up. Then the zone breaks (a TLSA record of another key, no DMARC) and
// those two go Down with their codes.
func TestDiscoverApplyDomainHealth(t *testing.T) {
	e := realmail.StartWith(t, realmail.Options{})
	var zones []string
	for _, z := range domainprobe.DefaultZones() {
		zones = append(zones, z.Name) // served empty by NSD: never asked of the Internet
	}
	dom := realdns.StartMailDomain(t, e, zones...)
	// The policy host's HTTPS port is a free one, not 443; the servers'
	// monitors find mail.example.test through the system's resolver, which
	// here is the test's (serve --dns-server is the domain monitors' only).
	res, err := discover.NewResolver(dom.Resolver)
	if err != nil {
		t.Fatal(err)
	}
	probers := func(typ string) (probe.Prober, bool) {
		p, ok := kinds.Prober(typ)
		if typ == domainprobe.MTASTSName {
			p = domainprobe.MTASTSAt(dom.PolicyPort)
		}
		return func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
			cfg.Resolver = res
			return p(ctx, cfg, t)
		}, ok
	}
	getenv := func(string) string { return "" }

	var yaml, errOut bytes.Buffer
	code := Main(context.Background(), []string{"discover", dom.Domain, "--resolver", dom.Resolver, "--ports", "smtp:" + strconv.Itoa(e.SMTP),
		"--ca", dom.CAFile, "--servername", e.ServerName, "--ehlo", "monitor.example", "--timeout", "60", "--output", "yaml"},
		Env{Stdout: &yaml, Stderr: &errOut, Getenv: getenv, probers: probers})
	if code != ExitOK {
		t.Fatalf("discover: exit %d\n%s\n%s", code, yaml.String(), errOut.String())
	}
	proposal := yaml.String()
	db := filepath.Join(t.TempDir(), "m.db")
	var out bytes.Buffer
	errOut.Reset()
	if code := Main(context.Background(), []string{"apply", "-f", "-", "--db", db}, Env{Stdin: &yaml, Stdout: &out, Stderr: &errOut, Getenv: getenv}); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s\n%s", code, out.String(), errOut.String(), proposal)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	en := engine.New(engine.Options{Store: st, Probers: probers})
	if err := en.Load(ctx); err != nil {
		t.Fatal(err)
	}
	mons, _, err := st.Monitors(ctx, store.MonitorFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]int64{}
	for _, m := range mons {
		byType[m.Type] = m.ID
		res, err := en.TestNow(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != probe.StatusUp {
			t.Errorf("%s (%s): %s %+v %q", m.Name, m.Type, res.Status, res.Error, res.Warnings)
		}
	}
	for _, want := range []string{"ping", "tcp", "smtp", "dnsbl", "spf", "dmarc", "dkim", "mta-sts", "tls-rpt", "dane", "rdns"} {
		if _, ok := byType[want]; !ok {
			t.Errorf("no %s monitor was applied: %v\n%s", want, slices.Sorted(func(yield func(string) bool) {
				for k := range byType {
					if !yield(k) {
						return
					}
				}
			}), proposal)
		}
	}
	if t.Failed() {
		t.Fatalf("the proposal applied:\n%s", proposal)
	}

	// The certificate is renewed without its TLSA record, and the DMARC
	// record is lost: unbound answers from its cache for up to 5 seconds.
	dom.Update(t, dom.Zone(realdns.MailZone{TLSA: []string{realdns.TLSA311(realdns.OldCert(t)), "3 1 1 " + strings.Repeat("ab", 32)}, NoDMARC: true}))
	for typ, code := range map[string]probe.Code{"dane": probe.TLSAMismatch, "dmarc": probe.RecordMissing} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := en.TestNow(ctx, byType[typ])
			if err != nil {
				t.Fatal(err)
			}
			if res.Status == probe.StatusDown && res.Error != nil && res.Error.Code == code {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s %+v, want down with %s", typ, res.Status, res.Error, code)
			}
			time.Sleep(200 * time.Millisecond) // polling the resolver's cache: no event to wait on
		}
	}
}
