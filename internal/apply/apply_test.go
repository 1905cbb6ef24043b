package apply

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

func setup(t *testing.T) (store.Store, *vault.Vault) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	v, _ := vault.New([]byte("apply-test-key-0123456789"))
	return s, v
}

func parse(t *testing.T, path string) *config.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func actions(r Report) string {
	var b strings.Builder
	for _, c := range r {
		b.WriteString(c.Kind + " " + c.Name + " " + c.Action + "\n")
	}
	return b.String()
}

func TestApplyIsIdempotentAndKeepsSecrets(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	envs := map[string]string{"RELAY_PW": "relay-secret", "PROBE_PW": "probe-secret"}
	env := Env{Getenv: func(k string) string { return envs[k] }}
	f := parse(t, "../config/testdata/spec.yaml")

	rep, err := Apply(ctx, s, v, f, env)
	if err != nil {
		t.Fatal(err)
	}
	want := "alert ops created\nalert pager created\ndevice mail1 created\nmonitor mail1/SMTP created\nmonitor mail1/IMAP login created\nmonitor mail1/Round trip created\n"
	if got := actions(rep); got != want {
		t.Errorf("first apply:\n%s\nwant\n%s", got, want)
	}
	rep, err = Apply(ctx, s, v, parse(t, "../config/testdata/spec.yaml"), env)
	if err != nil || strings.Contains(actions(rep), "created") || strings.Contains(actions(rep), "updated") {
		t.Errorf("second apply changed something: %v\n%s", err, actions(rep))
	}

	d, _ := s.DeviceByName(ctx, "mail1")
	m, _ := s.MonitorByName(ctx, d.ID, "Round trip")
	for name, want := range map[string]string{"password": "probe-secret", "smtp.password": "probe-secret"} {
		if strings.Contains(m.Secrets[name], want) {
			t.Fatalf("%s stored in the clear", name)
		}
		pt, err := v.Open(m.Secrets[name], vault.MonitorRecord(m.ID, name))
		if err != nil || string(pt) != want {
			t.Errorf("%s = %q, %v", name, pt, err)
		}
	}
	smtp, _ := s.MonitorByName(ctx, d.ID, "SMTP")
	if ids, _ := s.MonitorAlerts(ctx, smtp.ID); len(ids) != 1 {
		t.Errorf("SMTP's alerts: %v", ids)
	}

	// A changed secret updates the monitor.
	envs["PROBE_PW"] = "rotated"
	rep, _ = Apply(ctx, s, v, parse(t, "../config/testdata/spec.yaml"), env)
	if !strings.Contains(actions(rep), "monitor mail1/IMAP login updated") || strings.Contains(actions(rep), "monitor mail1/SMTP updated") {
		t.Errorf("rotation:\n%s", actions(rep))
	}

	// Export: no secret; applied back, it changes nothing and keeps them.
	out, err := Export(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := config.Marshal(out)
	for _, secret := range []string{"relay-secret", "rotated", "PROBE_PW", "RELAY_PW"} {
		if strings.Contains(string(y), secret) {
			t.Errorf("export holds %q:\n%s", secret, y)
		}
	}
	// Each secret is a placeholder instead, which the apply below, with
	// the variables unset, reads as "keep the stored secret".
	for _, ph := range []string{"password: {env: MAILMON_SECRET_ALERT_PAGER_RELAY_PASSWORD}", "password: {env: MAILMON_SECRET_MAIL1_ROUND_TRIP_SMTP_PASSWORD}", "password: {env: MAILMON_SECRET_MAIL1_IMAP_LOGIN_PASSWORD}"} {
		if !strings.Contains(string(y), ph) {
			t.Errorf("export lacks %q:\n%s", ph, y)
		}
	}
	back, err := config.Parse("export.yaml", y)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, y)
	}
	rep, err = Apply(ctx, s, v, back, Env{Getenv: func(string) string { return "" }})
	if err != nil || strings.Contains(actions(rep), "updated") || strings.Contains(actions(rep), "created") {
		t.Errorf("re-applying the export: %v\n%s", err, actions(rep))
	}
	m, _ = s.MonitorByName(ctx, d.ID, "IMAP login")
	if pt, _ := v.Open(m.Secrets["password"], vault.MonitorRecord(m.ID, "password")); string(pt) != "rotated" {
		t.Errorf("the export's apply lost a secret: %q", pt)
	}
}

func TestApplyReportsMissingSecretsAtOnce(t *testing.T) {
	s, v := setup(t)
	f := parse(t, "../config/testdata/spec.yaml")
	_, err := Apply(context.Background(), s, v, f, Env{Getenv: func(string) string { return "" }})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		"alerts[1].email.relay.password: environment variable RELAY_PW is not set",
		"devices[0].monitors[1].password: environment variable PROBE_PW is not set",
		"devices[0].monitors[2].smtp.password: environment variable PROBE_PW is not set",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if ds, total, _ := s.Devices(context.Background(), store.Page{}); total != 0 {
		t.Errorf("a failed apply wrote %v", ds)
	}
	// Each field is named once: a secret that could not be read is not
	// also reported as missing.
	for _, p := range ps {
		if n := strings.Count(got, p.Field+":"); n != 1 {
			t.Errorf("%s reported %d times in\n%s", p.Field, n, got)
		}
	}
}

func TestUnreadableAlertSecretReportedOnce(t *testing.T) {
	s, v := setup(t)
	f, err := config.Parse("a.yaml", []byte(`devices: []
alerts:
  - name: pd
    pagerduty:
      routing_key: {env: NOPE_PD}
  - name: hook
    webhook:
      url: {env: NOPE_URL}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(context.Background(), s, v, f, Env{Getenv: func(string) string { return "" }})
	if err == nil {
		t.Fatal("applied alerts whose secrets are not set")
	}
	for _, field := range []string{"alerts[0].pagerduty.routing_key:", "alerts[1].webhook.url:"} {
		if n := strings.Count(err.Error(), field); n != 1 {
			t.Errorf("%s reported %d times, want once:\n%v", field, n, err)
		}
	}
}
