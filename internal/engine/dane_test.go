package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestDANEMonitor: dane monitors on a device at 127.0.0.1 (domain: the MX
// name) through the daemon's scheduler, against a STARTTLS server whose
// key the TLSA records name or do not, served signed by NSD and validated
// by unbound: their states follow.
func TestDANEMonitor(t *testing.T) {
	ctx := context.Background()
	cert := certs.NewCA(t).Issue(t, certs.Leaf{})
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(cert)})
	now := realdns.TLSA311(cert.Leaf)
	next := "3 1 1 " + "ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01"
	dns := realdns.Start(t, realdns.Zone{Name: "dane.test", Records: realdns.TLSARecords("mx", smtp.Port, now, next) +
		realdns.TLSARecords("single", smtp.Port, now) + realdns.TLSARecords("renewed", smtp.Port, next)})
	st := openTestStore(t)
	dev := putDevice(t, st, "mail", false)
	put := func(domain string) *store.Monitor {
		spec, _ := json.Marshal(config.Monitor{Domain: domain, Port: smtp.Port, Resolver: dns.Resolver,
			Timing: config.Timing{MaxDuration: config.Duration(10 * time.Second), UpEvery: config.Duration(time.Hour)}})
		m := &store.Monitor{DeviceID: dev.ID, Name: domain, Type: "dane", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	cases := []struct {
		m      *store.Monitor
		status probe.Status
		code   probe.Code
	}{
		{put("mx.dane.test"), probe.StatusUp, ""},
		{put("single.dane.test"), probe.StatusWarn, probe.RecordMissing},
		{put("renewed.dane.test"), probe.StatusDown, probe.TLSAMismatch},
	}
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	for _, c := range cases {
		res, err := e.TestNow(ctx, c.m.ID)
		must(t, err)
		code := probe.Code("")
		if res.Error != nil {
			code = res.Error.Code
		}
		if res.Status != c.status || code != c.code {
			t.Errorf("%s: %s %s %+v, want %s %s", c.m.Name, res.Status, code, res.Error, c.status, c.code)
		}
	}
}
