package config

import (
	"errors"
	"strings"
	"testing"
)

// TestYAMLMessages: what is wrong with a file is said in the YAML's words,
// at its line and column, with the fix where there is one.
func TestYAMLMessages(t *testing.T) {
	const dev = "devices:\n  - name: mail1\n    address: mail1.example.com\n    monitors:\n"
	monitorKeys := "valid keys: name, type, enabled, store_stats, port, tls, user, password, auth, oauth_token_file, oauth_token_command, oauth, allow_plaintext_auth, ca, servername, insecure_skip_verify, tls_key_exchange, cert_warn_days, ehlo, mailbox, mailbox_check, stat, expect, domain, resolver, zones, selectors, ips, dqs_key, smtp, from, to, poll_interval, stale_after, auth_results, auth_results_id, auth_results_methods, timing, notify, recovery, depends_on, maintenance, locations"
	for _, tc := range []struct {
		name, yaml string
		want       []string // each a whole line of the report
		not        []string // in no line
	}{
		{"unknown key with a suggestion", dev +
			"      - name: a\n        type: smtp\n" +
			"      - name: b\n        typ: smtp\n",
			[]string{`x.yaml:8:9: devices[0].monitors[1]: unknown key "typ"; did you mean "type"? ` + monitorKeys},
			[]string{"monitors[1].type", "config.Monitor", "not found in type"}},
		{"unknown key at the top", "colour: red\n",
			[]string{`x.yaml:1:1: unknown key "colour"; valid keys: credentials, alerts, devices, status_pages`}, nil},
		{"a misspelt status page key", "status_pages:\n  - {name: mail, title: Mail, monitor: [a/b]}\n",
			[]string{`x.yaml:2:31: status_pages[0]: unknown key "monitor"; did you mean "monitors"? valid keys: name, title, description, monitors, devices, public`}, nil},
		{"a status page's name not fit for an address", "status_pages:\n  - {name: our mail, title: Mail, devices: [mail1]}\n",
			[]string{`x.yaml:2:6: status_pages[0].name: "our mail" cannot be in an address (/status/NAME): use letters, digits, '-', '_' and '.' only`}, nil},
		{"a status page's monitor without its device", "status_pages:\n  - {name: mail, title: Mail, monitors: [SMTP]}\n",
			[]string{`x.yaml:2:42: status_pages[0].monitors[0]: "SMTP" is not DEVICE/MONITOR: name a monitor with its device, such as "mail1/SMTP"`}, nil},
		{"a status page of nothing", "status_pages:\n  - {name: mail, title: Mail}\n",
			[]string{`x.yaml:2:5: status_pages[0]: a status page shows monitors or devices: give monitors: [DEVICE/MONITOR, …] or devices: [DEVICE, …]`}, nil},
		{"a key in the wrong place", "alerts:\n  - name: ops\n    type: webhook\n    webhook: {url: \"https://h.example/x\"}\n",
			[]string{`x.yaml:3:5: alerts[0]: unknown key "type"; valid keys: name, webhook, email, command, alertmanager, pagerduty, opsgenie, url, escalate, schedule`}, nil},
		{"misspelt nested key", dev + "      - {name: a, type: smtp, timing: {up_evry: 5m}}\n",
			[]string{`x.yaml:5:40: devices[0].monitors[0].timing: unknown key "up_evry"; did you mean "up_every"? valid keys: max_duration, up_every, down_every, lost_every, warn_rtt`}, nil},
		{"misspelt key of the SMTP leg", dev + "      - {name: a, type: imap-roundtrip, smtp: {oath: {}}}\n",
			[]string{`x.yaml:5:48: devices[0].monitors[0].smtp: unknown key "oath"; did you mean "oauth"? valid keys: host, port, tls, user, password, auth, ca, servername, insecure_skip_verify, allow_plaintext_auth, oauth`}, nil},
		{"misspelt key of an oauth block", dev + "      - {name: a, type: imap, oauth: {provider: google, subjct: u}}\n",
			[]string{`x.yaml:5:57: devices[0].monitors[0].oauth: unknown key "subjct"; did you mean "subject"? valid keys: provider, tenant, token_url, client_id, client_secret, scope, refresh_token, service_account_key, subject`}, nil},
		{"a word for a number", dev + "      - name: a\n        type: smtp\n        port: twenty-five\n",
			[]string{`x.yaml:7:15: devices[0].monitors[0].port: want a whole number, got "twenty-five"`}, nil},
		{"a number in quotes", dev + "      - {name: a, type: smtp, port: \"25\"}\n",
			[]string{`x.yaml:5:37: devices[0].monitors[0].port: want a whole number, got "25" (in quotes: a string)`}, nil},
		{"not true or false", dev + "      - {name: a, type: smtp, enabled: maybe}\n",
			[]string{`x.yaml:5:40: devices[0].monitors[0].enabled: want true or false, got "maybe"`}, nil},
		{"a mapping for a list", dev + "      name: a\n",
			[]string{`x.yaml:5:7: devices[0].monitors: want a list (- item per line, or [a, b]), got a mapping (key: value)`},
			[]string{"devices[0].monitors[0]"}},
		{"a list for a string", dev + "      - {name: [a, b], type: smtp}\n",
			[]string{`x.yaml:5:16: devices[0].monitors[0].name: want a string, got a list`},
			[]string{"a name is 1 to 64 characters"}},
		{"not a duration", dev + "      - {name: a, type: smtp, timing: {up_every: soon}}\n",
			[]string{`x.yaml:5:50: devices[0].monitors[0].timing.up_every: "soon" is not a duration (like 30s, 5m, 1h)`},
			[]string{"must be positive", "shorter than up_every"}},
		{"a misspelt secret form", dev + "      - {name: a, type: imap, user: u, password: {evn: PW}}\n",
			[]string{`x.yaml:5:50: devices[0].monitors[0].password: unknown key "evn"; did you mean "env"? a secret is a string, {env: VAR} or {file: PATH}`}, nil},
		{"a key given twice", dev + "      - name: a\n        type: smtp\n        name: b\n",
			[]string{`x.yaml:7:9: devices[0].monitors[0].name: is given twice (first on line 5)`}, nil},
		{"bad type", dev + "      - {name: a, type: smpt}\n",
			[]string{`x.yaml:5:19: devices[0].monitors[0].type: "smpt" is not one of smtp, pop3, imap, tcp, ping, pop3-roundtrip, imap-roundtrip, graph, graph-roundtrip, dnsbl, spf, dmarc, dkim, tls-rpt, mta-sts, rdns, dane; did you mean "smtp"?`}, nil},
		{"bad TLS mode", dev + "      - {name: a, type: imap, tls: STARTTLS}\n",
			[]string{`x.yaml:5:31: devices[0].monitors[0].tls: "STARTTLS" is not one of none, starttls-optional, starttls, implicit; did you mean "starttls"?`}, nil},
		{"misspelt mechanism", dev + "      - {name: a, type: imap, tls: implicit, user: u, password: x, auth: PLIAN}\n",
			[]string{`x.yaml:5:68: devices[0].monitors[0].auth: "PLIAN" is not one of auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, USER, APOP; did you mean "PLAIN"?`}, nil},
		{"a mechanism of another protocol", dev + "      - {name: a, type: imap, tls: implicit, user: u, password: x, auth: user}\n",
			[]string{`x.yaml:5:68: devices[0].monitors[0].auth: USER is a POP3 mechanism`}, []string{"did you mean"}},
		{"misspelt escalation key", "alerts:\n  - {name: ops, webhook: {url: \"https://h.example/x\"}, escalate: {aftr: 15m, to: [ops]}}\n",
			[]string{`x.yaml:2:67: alerts[0].escalate: unknown key "aftr"; did you mean "after"? valid keys: after, to`}, nil},
		{"misspelt schedule key", "alerts:\n  - {name: ops, webhook: {url: \"https://h.example/x\"}, schedule: {zone: UTC, form: \"08:00\", to: \"18:00\"}}\n",
			[]string{`x.yaml:2:78: alerts[0].schedule: unknown key "form"; did you mean "from"? valid keys: zone, days, from, to, outside`}, nil},
		{"bad webhook format", "alerts:\n  - {name: ops, webhook: {url: \"https://h.example/x\", format: slak}}\n",
			[]string{`x.yaml:2:55: alerts[0].webhook.format: "slak" is not generic, slack, teams or teams-workflows; did you mean "slack"?`}, nil},
		{"broken YAML: a line, no column 0", "devices:\n  - name: a\n\taddress: b\n",
			[]string{`x.yaml:2: found a tab character that violates indentation`}, nil},
		{"a misspelt time zone", "devices:\n  - name: mail1\n    address: mail1.example.com\n" +
			"    maintenance: [{zone: Europe/Berlyn, days: [sun], start: \"02:00\", end: \"04:00\"}]\n",
			[]string{`x.yaml:4:20: devices[0].maintenance[0].zone: unknown time zone "Europe/Berlyn"; did you mean "Europe/Berlin"?`}, nil},
		{"a time zone far from any", dev + "      - {name: a, type: smtp, maintenance: [{zone: Mars/Olympus, days: [sun], start: \"02:00\", duration: 2h}]}\n",
			[]string{`x.yaml:5:46: devices[0].monitors[0].maintenance[0].zone: unknown time zone "Mars/Olympus": give an IANA name such as Europe/Berlin or UTC`}, nil},
		{"a weekly window with end and duration", dev + "      - {name: a, type: smtp, maintenance: [{days: [sun], start: \"02:00\", end: \"04:00\", duration: 2h}]}\n",
			[]string{`x.yaml:5:45: devices[0].monitors[0].maintenance[0]: a weekly window has end (a time of day) or duration, not both`}, nil},
		{"every error at once", "alerts:\n  - {name: ops, webhok: {url: \"https://h.example/x\"}}\n" + dev +
			"      - {name: a, type: smtp, port: 70000}\n" +
			"      - {name: b, type: smtp, port: x}\n" +
			"      - {name: c, type: smtp, notify: {alerts: [ops]}, colour: red}\n",
			[]string{
				`x.yaml:2:17: alerts[0]: unknown key "webhok"; did you mean "webhook"? valid keys: name, webhook, email, command, alertmanager, pagerduty, opsgenie, url, escalate, schedule`,
				`x.yaml:7:31: devices[0].monitors[0].port: 70000 is not between 1 and 65535`,
				`x.yaml:8:37: devices[0].monitors[1].port: want a whole number, got "x"`,
				`x.yaml:9:56: devices[0].monitors[2]: unknown key "colour"; ` + monitorKeys,
			},
			// alerts[0] has no kind only because of the typo
			[]string{"exactly one of webhook"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("missing\n  %s\nin\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("%q should not be in\n  %s", n, strings.Join(lines, "\n  "))
				}
			}
		})
	}
}
