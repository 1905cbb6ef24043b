package metrics

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
)

// TestCertExpiryOfBothLegs: the certificate expiry of the monitor's server
// is exposed as it was (no leg label), and a round trip's SMTP leg beside
// it with leg="smtp". The server's certificate comes from a real TLS test;
// the SMTP leg's facts are put where a round trip puts them (its own
// tests, internal/probe/roundtrip, pin that).
func TestCertExpiryOfBothLegs(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ca := certs.NewCA(t)
	serverExpiry := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Second)
	smtpExpiry := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{NotAfter: serverExpiry})), Implicit: true})
	d := &store.Device{Name: "mail1", Address: srv.Host}
	st.PutDevice(ctx, d)
	spec, _ := json.Marshal(config.Monitor{Port: srv.Port, TLS: "implicit", CA: ca.File(t),
		Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "RT", Type: "smtp", Enabled: true, Spec: spec}
	st.PutMonitor(ctx, m)
	smtp, _ := kinds.Prober("smtp")
	withLeg := func(ctx context.Context, cfg *probe.Config, tr *probe.Trace) error {
		err := smtp(ctx, cfg, tr)
		tr.Detail(probe.LegSMTP, map[string]any{"tls": &probe.TLSInfo{CertNotAfter: smtpExpiry}})
		return err
	}
	e := engine.New(engine.Options{Store: st, Probers: func(string) (probe.Prober, bool) { return withLeg, true }})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := e.TestNow(ctx, m.ID); err != nil || res.TLS == nil {
		t.Fatalf("test: %v %+v", err, res)
	}
	out := scrape(t, e)
	for _, want := range []string{
		`mailmon_monitor_cert_expiry_timestamp_seconds{device="mail1",leg="",monitor="RT",type="smtp"} ` + unix(serverExpiry),
		`mailmon_monitor_cert_expiry_timestamp_seconds{device="mail1",leg="smtp",monitor="RT",type="smtp"} ` + unix(smtpExpiry),
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

// unix is a time as the exposition writes its seconds.
func unix(t time.Time) string { return strconv.FormatFloat(float64(t.Unix()), 'g', -1, 64) }
