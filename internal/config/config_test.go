package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSpecExampleParses(t *testing.T) {
	data, _ := os.ReadFile("testdata/spec.yaml")
	f, err := Parse("spec.yaml", data)
	if err != nil {
		t.Fatalf("the product specification's example is rejected:\n%v", err)
	}
	if len(f.Alerts) != 2 || f.Alerts[1].Kind() != "email" || f.Alerts[1].Email.Relay.Password.Env != "RELAY_PW" {
		t.Errorf("alerts: %+v", f.Alerts)
	}
	rt := f.Devices[0].Monitors[2]
	cfg := rt.ProbeConfig(f.Devices[0].Address)
	if cfg.Type != "imap-roundtrip" || cfg.SMTP == nil || cfg.SMTP.Port != 587 || cfg.Timeout.String() != "1m0s" || cfg.Port != 993 || cfg.Monitor != "Round trip" {
		t.Errorf("round trip probe config: %+v", cfg)
	}
	if m := f.Devices[0].Monitors[1]; m.Timing.UpEvery.D().String() != "1m0s" || m.Notify.FailuresPerAlert != 3 || !m.IsEnabled() {
		t.Errorf("defaults not filled: %+v", m)
	}
	out, err := Marshal(f)
	// The secrets' places are written back where they stood.
	if err != nil || strings.Count(string(out), "password: {env: PROBE_PW}") != 3 || !strings.Contains(string(out), "    user: probe@example.com\n        password: {env: PROBE_PW}\n") {
		t.Fatalf("marshal (%v):\n%s", err, out)
	}
	again, err := Parse("export.yaml", out)
	if err != nil || len(again.Devices[0].Monitors) != 3 || again.Devices[0].Monitors[2].SMTP.Port != 587 {
		t.Errorf("the export does not read back: %v", err)
	}
}

func TestProblemsNameFileLineAndField(t *testing.T) {
	data, _ := os.ReadFile("testdata/bad.yaml")
	_, err := Parse("bad.yaml", data)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	got := err.Error()
	if strings.Contains(got, "cycle") {
		t.Errorf("a self-dependency is reported once, not as a cycle too:\n%s", got)
	}
	for _, want := range []string{
		`bad.yaml:3:15: alerts[0].webhook.url: is not an http(s) URL (like https://hooks.example.com/…)`, // a secret: not quoted
		`bad.yaml:3:34: alerts[0].webhook.format: "xml" is not generic, slack or teams`,
		`bad.yaml:10:9: devices[0].monitors[0].port: 70000 is not between 1 and 65535`,
		`bad.yaml:11:9: devices[0].monitors[0].tls: "ssl" is not one of none, starttls-optional, starttls, implicit`,
		`bad.yaml:12:18: devices[0].monitors[0].timing.max_duration: 2m0s must be shorter than up_every (1m0s)`,
		`bad.yaml:13:32: devices[0].monitors[0].notify.alerts[1]: no alert is named "nobody"`,
		`bad.yaml:14:9: devices[0].monitors[1].name: a name is 1 to 64 characters on one line`,
		`devices[0].monitors[1].allow_plaintext_auth: credentials would cross the network unencrypted`,
		`devices[0].monitors[2].from: "" is not an e-mail address`,
		`devices[0].monitors[2].smtp: the SMTP leg is required`,
		`bad.yaml:18:9: devices[0].monitors[2].to: "" is not an e-mail address`,
		`bad.yaml:23:22: devices[0].monitors[2].depends_on[0]: no other monitor of device "mail1" is named "RT"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestStrictDecoding(t *testing.T) {
	_, err := Parse("x.yaml", []byte("devices:\n  - name: a\n    adress: typo.example\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3:") || !strings.Contains(err.Error(), "adress") {
		t.Errorf("unknown field: %v", err)
	}
	_, err = Parse("x.yaml", []byte("devices:\n  - name: a\n    address: h\n    monitors:\n      - {name: m, type: smtp, timing: {up_every: soon}}\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:5:") || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("bad duration: %v", err)
	}
	_, err = Parse("x.yaml", []byte("devices: [\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:") {
		t.Errorf("broken YAML: %v", err)
	}
}

func TestDependencyCycle(t *testing.T) {
	y := "devices:\n  - name: a\n    address: h\n    monitors:\n" +
		"      - {name: x, type: tcp, port: 1, depends_on: [y]}\n" +
		"      - {name: y, type: tcp, port: 2, depends_on: [z]}\n" +
		"      - {name: z, type: tcp, port: 3, depends_on: [x]}\n"
	_, err := Parse("c.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "dependencies form a cycle: x → y → z → x") {
		t.Errorf("cycle: %v", err)
	}
}

func TestSecretForms(t *testing.T) {
	y := "devices:\n  - name: a\n    address: h\n    monitors:\n" +
		"      - {name: lit, type: imap, tls: implicit, user: u, password: hunter22}\n" +
		"      - {name: env, type: imap, tls: implicit, user: u, password: {env: PW}}\n" +
		"      - {name: file, type: imap, tls: implicit, user: u, password: {file: /run/pw}}\n"
	f, err := Parse("s.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	ms := f.Devices[0].Monitors
	env := map[string]string{"PW": "from-env"}
	read := func(p string) ([]byte, error) { return []byte("from-file\nsecond line"), nil }
	for i, want := range []string{"hunter22", "from-env", "from-file"} {
		if v, err := ms[i].Password.Resolve(func(k string) string { return env[k] }, read); err != nil || v != want {
			t.Errorf("%s: %q %v", ms[i].Name, v, err)
		}
	}
	out, _ := Marshal(f)
	if strings.Contains(string(out), "hunter22") {
		t.Errorf("a secret was written:\n%s", out)
	}
	if _, err := Parse("s.yaml", []byte("alerts:\n  - name: a\n    command: {argv: [x]}\ndevices:\n  - name: a\n    address: h\n    monitors:\n      - {name: m, type: imap, tls: implicit, user: u, password: {env: A, file: B}}\n")); err == nil {
		t.Error("a secret with both env and file accepted")
	}
}
