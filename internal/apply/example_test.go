package apply

import (
	"context"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestExampleExportApplyRoundTrip: docs/mail.yaml covers every monitor
// type and alert kind and applies; its export, applied to a new database
// with the placeholders' variables set, gives the same configuration and
// the same secrets.
func TestExampleExportApplyRoundTrip(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../../docs/mail.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse("docs/mail.yaml", data)
	if err != nil {
		t.Fatalf("docs/mail.yaml:\n%v", err)
	}
	types, alertKinds := map[string]bool{}, map[string]bool{}
	for _, d := range f.Devices {
		for _, m := range d.Monitors {
			types[m.Type] = true
		}
	}
	for _, a := range f.Alerts {
		alertKinds[a.Kind()] = true
	}
	for _, k := range kinds.Names() {
		if !types[k] {
			t.Errorf("docs/mail.yaml has no %s monitor", k)
		}
	}
	for _, k := range []string{"webhook", "email", "command", "alertmanager", "pagerduty", "opsgenie"} {
		if !alertKinds[k] {
			t.Errorf("docs/mail.yaml has no %s alert", k)
		}
	}
	if len(f.StatusPages) == 0 || len(f.StatusPages[0].Monitors) == 0 || len(f.StatusPages[0].Devices) == 0 {
		t.Errorf("docs/mail.yaml has no status page with monitors and devices")
	}

	_, sshKey := credTestKeys(t)
	secretsIn := map[string]string{
		"MAIL_OPS_SSH_KEY": sshKey, "CHAT_WEBHOOK_URL": "https://hooks.example.test/T0/B0/s3cret",
		"RELAY_PASSWORD": "relay-s3cret", "PROBE_PASSWORD": "probe-s3cret", "M365_CLIENT_SECRET": "m365-s3cret", "M365_SMTP_CLIENT_SECRET": "m365-smtp-s3cret", "GOOGLE_SA_KEY": `{"type": "service_account", "private_key": "k3y"}`,
		"TICKETS_URL": "https://tickets.example.test/api/s3cret", "TICKETS_AUTH": "Bearer t1ck3ts", "PD_ROUTING_KEY": "pd-r0uting-key-0123456789abcdef", "OPSGENIE_KEY": "0psgenie-key",
		"TEAM_URL": "ntfy://mailmon:t3am-pa55@ntfy.example.test/mail-alerts", "DQS_KEY": "dqsk3y0123456789",
	}
	one, v1 := setup(t)
	if _, err := Apply(ctx, one, v1, f, Env{Getenv: func(k string) string { return secretsIn[k] }}); err != nil {
		t.Fatalf("applying docs/mail.yaml: %v", err)
	}
	exported := export(t, one)
	for _, s := range secretsIn {
		if strings.Contains(exported, strings.TrimSpace(s)) || strings.Contains(exported, "PRIVATE KEY") {
			t.Fatalf("the export holds a secret:\n%s", exported)
		}
	}
	// Each placeholder, as export names it, and the secret it stands for.
	placeholders := map[string]string{
		"MAILMON_SECRET_CREDENTIAL_MAIL_OPS_KEY":                              sshKey,
		"MAILMON_SECRET_ALERT_CHAT_WEBHOOK_URL":                               secretsIn["CHAT_WEBHOOK_URL"],
		"MAILMON_SECRET_ALERT_TICKETS_WEBHOOK_URL":                            secretsIn["TICKETS_URL"],
		"MAILMON_SECRET_ALERT_TICKETS_HEADER_AUTHORIZATION":                   secretsIn["TICKETS_AUTH"],
		"MAILMON_SECRET_ALERT_PAGERDUTY_PAGERDUTY_ROUTING_KEY":                secretsIn["PD_ROUTING_KEY"],
		"MAILMON_SECRET_ALERT_OPSGENIE_OPSGENIE_API_KEY":                      secretsIn["OPSGENIE_KEY"],
		"MAILMON_SECRET_ALERT_TEAM_URL":                                       secretsIn["TEAM_URL"],
		"MAILMON_SECRET_ALERT_ONCALL_RELAY_PASSWORD":                          "relay-s3cret",
		"MAILMON_SECRET_MAIL1_POP3_LOGIN_PASSWORD":                            "probe-s3cret",
		"MAILMON_SECRET_MAIL1_IMAP_LOGIN_PASSWORD":                            "probe-s3cret",
		"MAILMON_SECRET_MAIL1_DELIVERY_VIA_POP3_PASSWORD":                     "probe-s3cret",
		"MAILMON_SECRET_MAIL1_DELIVERY_VIA_POP3_SMTP_PASSWORD":                "probe-s3cret",
		"MAILMON_SECRET_MAIL1_DELIVERY_VIA_IMAP_PASSWORD":                     "probe-s3cret",
		"MAILMON_SECRET_M365_GRAPH_LOGIN_OAUTH_CLIENT_SECRET":                 "m365-s3cret",
		"MAILMON_SECRET_M365_DELIVERY_VIA_GRAPH_OAUTH_CLIENT_SECRET":          "m365-s3cret",
		"MAILMON_SECRET_M365_IMAP_DELIVERY_VIA_IMAP_OAUTH_CLIENT_SECRET":      "m365-s3cret",
		"MAILMON_SECRET_M365_IMAP_DELIVERY_VIA_IMAP_SMTP_OAUTH_CLIENT_SECRET": "m365-smtp-s3cret",
		"MAILMON_SECRET_WORKSPACE_IMAP_LOGIN_OAUTH_SERVICE_ACCOUNT_KEY":       `{"type": "service_account", "private_key": "k3y"}`,
		"MAILMON_SECRET_EXAMPLE_COM_BLOCKLISTS_DQS_KEY":                       secretsIn["DQS_KEY"],
	}
	for name := range placeholders {
		if !strings.Contains(exported, "#   "+name+"\n") || !strings.Contains(exported, "{env: "+name+"}") {
			t.Errorf("the export does not list and use %s:\n%s", name, exported)
		}
	}
	if n := strings.Count(exported, ": {env: "+config.PlaceholderPrefix); n != len(placeholders) {
		t.Errorf("%d placeholders, want %d:\n%s", n, len(placeholders), exported)
	}

	checked := 0
	back, err := config.Parse("export.yaml", []byte(exported))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, exported)
	}
	// Escalations and schedules come back as they were given.
	exportedAlerts := map[string]config.Alert{}
	for _, a := range back.Alerts {
		exportedAlerts[a.Name] = a
	}
	exportedMonitors := map[string]config.Monitor{}
	for _, d := range back.Devices {
		for _, m := range d.Monitors {
			exportedMonitors[d.Name+"/"+m.Name] = m
		}
	}
	for _, a := range f.Alerts {
		b := exportedAlerts[a.Name]
		if !reflect.DeepEqual(a.Escalate, b.Escalate) || !reflect.DeepEqual(a.Schedule, b.Schedule) {
			t.Errorf("alert %s: escalate %+v schedule %+v, exported as %+v %+v", a.Name, a.Escalate, a.Schedule, b.Escalate, b.Schedule)
		}
		if a.Escalate != nil || a.Schedule != nil {
			checked++
		}
	}
	for _, d := range f.Devices {
		for _, m := range d.Monitors {
			if b := exportedMonitors[d.Name+"/"+m.Name].Notify.Escalate; !reflect.DeepEqual(m.Notify.Escalate, b) {
				t.Errorf("monitor %s: escalate %+v, exported as %+v", m.Name, m.Notify.Escalate, b)
			} else if b != nil {
				checked++
			}
		}
	}
	if checked < 3 {
		t.Errorf("docs/mail.yaml has %d escalations and schedules, want an example of each kind", checked)
	}
	// The windows, a device's and a monitor's, keep their zones and ends.
	windows := func(f *config.File) (dev, mon []config.Window) {
		for _, d := range f.Devices {
			for _, m := range d.Monitors {
				if d.Name == "mail1" && m.Name == "SMTP" {
					return d.Maintenance, m.Maintenance
				}
			}
		}
		return nil, nil
	}
	if d1, m1 := windows(f); len(d1) == 0 || len(m1) < 2 {
		t.Errorf("docs/mail.yaml: mail1 and its SMTP monitor have windows %+v and %+v", d1, m1)
	} else if d2, m2 := windows(back); !reflect.DeepEqual(d1, d2) || !reflect.DeepEqual(m1, m2) {
		t.Errorf("mail1's and its SMTP monitor's windows export as %+v and %+v, want %+v and %+v", d2, m2, d1, m1)
	}
	two, v2 := setup(t)
	// Unset, the placeholders say what to do, each at its field.
	_, err = Apply(ctx, two, v2, back, Env{Getenv: func(string) string { return "" }})
	for name := range placeholders {
		if want := "environment variable " + name + " is not set, and no secret is stored yet: set it to the secret"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
	if _, err := Apply(ctx, two, v2, back, Env{Getenv: func(k string) string { return placeholders[k] }}); err != nil {
		t.Fatalf("applying the export to a new database: %v", err)
	}
	if !strings.Contains(exported, "status_pages:\n  - name: mail\n") {
		t.Errorf("the export has no status page:\n%s", exported)
	}
	if again := export(t, two); again != exported {
		t.Errorf("the new database exports\n%s\nwant\n%s", again, exported)
	}
	if a, b := secrets(t, one, v1), secrets(t, two, v2); !maps.Equal(a, b) || len(a) != len(placeholders) {
		t.Errorf("secrets differ:\n%v\n%v", slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
	}
}

func export(t *testing.T, s store.Store) string {
	t.Helper()
	f, err := Export(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := config.MarshalExport(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// secrets opens every stored secret: "kind name/secret" → value.
func secrets(t *testing.T, s store.Store, v *vault.Vault) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	open := func(label, sealed, record string) {
		pt, err := v.Open(sealed, record)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		out[label] = string(pt)
	}
	cs, _, _ := s.Credentials(ctx, store.Page{Limit: 100})
	for _, c := range cs {
		for k, sealed := range c.Secrets {
			open("credential "+c.Name+"/"+k, sealed, vault.CredentialRecord(c.ID, k))
		}
	}
	as, _, _ := s.Alerts(ctx, store.Page{Limit: 100})
	for _, a := range as {
		for k, sealed := range a.Secrets {
			open("alert "+a.Name+"/"+k, sealed, vault.AlertRecord(a.ID, k))
		}
	}
	ds, _, _ := s.Devices(ctx, store.Page{Limit: 100})
	for _, d := range ds {
		ms, _, _ := s.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID, Page: store.Page{Limit: 100}})
		for _, m := range ms {
			for k, sealed := range m.Secrets {
				open("monitor "+d.Name+"/"+m.Name+"/"+k, sealed, vault.MonitorRecord(m.ID, k))
			}
		}
	}
	return out
}
