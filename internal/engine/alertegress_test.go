package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestNetworkAlertsHeldToEgressWhenDialled: a webhook URL or an e-mail
// relay set over the network (network_target) is checked on the address
// its notification dials: on loopback, nothing reaches the receiver and
// the failure names the flag. The operator's alerts of the same receivers
// are delivered.
func TestNetworkAlertsHeldToEgressWhenDialled(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	var hookConns atomic.Int64 // requests; the refusal itself is tested in internal/alert
	hs := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hookConns.Add(1) }))
	defer hs.Close()
	relay := fakesmtp.Start(t, fakesmtp.Options{})

	put := func(name string, network bool) (hook, mail *store.Alert) {
		hspec, _ := json.Marshal(config.Alert{Name: name + " hook", Webhook: &config.Webhook{}})
		hook = &store.Alert{Name: name + " hook", Kind: "webhook", Spec: hspec, NetworkTarget: network}
		must(t, st.PutAlert(ctx, hook))
		sealed, _ := v.Seal([]byte(hs.URL+"/s3cret-path"), vault.AlertRecord(hook.ID, "webhook.url"))
		hook.Secrets = map[string]string{"webhook.url": sealed}
		must(t, st.PutAlert(ctx, hook))
		espec, _ := json.Marshal(config.Alert{Name: name + " mail", Email: &config.Email{To: []string{"oncall@example.test"},
			From: "mailmon@example.test", Relay: config.Leg{Host: relay.Host, Port: relay.Port, TLS: "none"}}})
		mail = &store.Alert{Name: name + " mail", Kind: "email", Spec: espec, NetworkTarget: network}
		must(t, st.PutAlert(ctx, mail))
		return hook, mail
	}
	netHook, netMail := put("network", true)
	opHook, opMail := put("operator", false)

	e := New(Options{Store: st, Vault: v})
	notify := func(a *store.Alert) error {
		nt, err := e.notifier(a)
		if err != nil {
			t.Fatal(err)
		}
		return nt.Notify(ctx, alert.Event{Kind: "alert", Monitor: "m", Device: "d", State: "down"})
	}
	for _, a := range []*store.Alert{netHook, netMail} {
		err := notify(a)
		if err == nil || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), egress.Flag) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v, want a refusal naming loopback and %s", a.Name, err, egress.Flag)
		}
	}
	if n, cmds := hookConns.Load(), relay.Commands(); n != 0 || len(cmds) != 0 {
		t.Fatalf("refused notifications reached their receivers: %d webhook requests, relay commands %q", n, cmds)
	}
	for _, a := range []*store.Alert{opHook, opMail} {
		if err := notify(a); err != nil {
			t.Errorf("%s: %v", a.Name, err)
		}
	}
	if n, msgs := hookConns.Load(), relay.Messages(); n != 1 || len(msgs) != 1 {
		t.Errorf("the operator's alerts: %d webhook requests, %d messages relayed; want 1 and 1", n, len(msgs))
	}
}
