package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestDomainMonitorsTakeServesResolver: a domain monitor without its own
// resolver asks serve --resolver's; its own resolver wins; and its state
// follows the record (Up, then Down on a missing record).
func TestDomainMonitorsTakeServesResolver(t *testing.T) {
	ctx := context.Background()
	dns := realdns.Start(t, realdns.Zone{Name: "example.test", Records: `
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
`})
	st := openTestStore(t)
	dev := putDevice(t, st, "mail", false)
	put := func(name, domain, resolver string) *store.Monitor {
		spec, _ := json.Marshal(config.Monitor{Domain: domain, Resolver: resolver,
			Timing: config.Timing{MaxDuration: config.Duration(10 * time.Second), UpEvery: config.Duration(time.Hour)}})
		m := &store.Monitor{DeviceID: dev.ID, Name: name, Type: "spf", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	good := put("spf", "example.test", "")
	missing := put("spf missing", "none.example.test", "")
	own := put("own resolver", "example.test", "127.0.0.1:9") // nothing listens: its own resolver is asked

	e := New(Options{Store: st, DNSServer: dns.Resolver})
	must(t, e.Load(ctx))
	for _, c := range []struct {
		m      *store.Monitor
		status probe.Status
		code   probe.Code
	}{
		{good, probe.StatusUp, ""},
		{missing, probe.StatusDown, probe.RecordMissing},
		{own, probe.StatusDown, probe.ConnectFailed},
	} {
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
