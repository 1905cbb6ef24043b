package apply

import (
	"context"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
)

// TestApplyMakesTargetsTheOperators: a device, monitor and e-mail relay
// whose targets were set over the network become the operator's when the
// operator applies them, even unchanged; applying again changes nothing.
func TestApplyMakesTargetsTheOperators(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	f, err := config.Parse("net.yaml", []byte(`alerts:
  - name: relay
    email: {to: [ops@example.test], relay: {host: 127.0.0.1, port: 25}}
devices:
  - name: local
    address: 127.0.0.1
    monitors:
      - {name: smtp, type: smtp, port: 25}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, s, v, f, Env{}); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DeviceByName(ctx, "local")
	m, _ := s.MonitorByName(ctx, d.ID, "smtp")
	a, _ := s.AlertByName(ctx, "relay")
	if d.NetworkTarget || m.NetworkTarget || a.NetworkTarget {
		t.Fatalf("applied targets are the network's: %v %v %v", d.NetworkTarget, m.NetworkTarget, a.NetworkTarget)
	}
	// As if each had been saved through the API since.
	d.NetworkTarget, m.NetworkTarget, a.NetworkTarget = true, true, true
	must(t, s.PutDevice(ctx, d))
	must(t, s.PutMonitor(ctx, m))
	must(t, s.PutAlert(ctx, a))
	rep, err := Apply(ctx, s, v, f, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got != "alert relay updated\ndevice local updated\nmonitor local/smtp updated\n" {
		t.Errorf("apply over network targets:\n%s", got)
	}
	d, _ = s.DeviceByName(ctx, "local")
	m, _ = s.MonitorByName(ctx, d.ID, "smtp")
	a, _ = s.AlertByName(ctx, "relay")
	if d.NetworkTarget || m.NetworkTarget || a.NetworkTarget {
		t.Errorf("after apply, targets are still the network's: %v %v %v", d.NetworkTarget, m.NetworkTarget, a.NetworkTarget)
	}
	rep, _ = Apply(ctx, s, v, f, Env{})
	if got := actions(rep); got != "alert relay unchanged\ndevice local unchanged\nmonitor local/smtp unchanged\n" {
		t.Errorf("apply again:\n%s", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
