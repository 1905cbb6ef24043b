package config

import (
	"strings"
	"testing"
)

// TestPagingAlerts: the Alertmanager, PagerDuty and Opsgenie actions read
// from YAML, their keys are never exported, and a bad one names its field
// and says what to write.
func TestPagingAlerts(t *testing.T) {
	const good = `alerts:
  - name: am
    alertmanager: {url: "http://alertmanager.example:9093"}
  - name: pd
    pagerduty: {routing_key: "0123456789abcdef0123456789abcdef"}
  - name: og
    opsgenie: {api_key: {env: OG_KEY}, url: "https://api.eu.opsgenie.com"}
`
	f, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, a := range f.Alerts {
		kinds = append(kinds, a.Kind())
	}
	if strings.Join(kinds, " ") != "alertmanager pagerduty opsgenie" || f.Alerts[1].Target() != PagerDutyURL {
		t.Errorf("kinds %v, target %q", kinds, f.Alerts[1].Target())
	}
	if sf := f.Alerts[2].SealedFields(); len(sf) != 1 || sf[0].Name != "opsgenie.api_key" || sf[0].Ref.Env != "OG_KEY" {
		t.Errorf("sealed fields: %+v", sf)
	}
	out, err := Marshal(f)
	if err != nil || strings.Contains(string(out), "0123456789abcdef") || !strings.Contains(string(out), "api_key: {env: OG_KEY}") {
		t.Errorf("an export shows a key (%v):\n%s", err, out)
	}
	const bad = `alerts:
  - name: am
    alertmanager: {url: "http://admin:pw@alertmanager.example:9093"}
  - name: am2
    alertmanager: {}
  - name: pd
    pagerduty: {routing_key: "short"}
  - name: og
    opsgenie: {url: "ftp://x"}
  - name: two
    alertmanager: {url: "http://a.example"}
    opsgenie: {}
  - name: tpl
    webhook: {url: "https://h.example/x", method: DELETE, format: slack, body: "{{.Monitor", headers: {"Bad Name": x, Host: y}}
`
	_, err = Parse("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`alerts[0].alertmanager.url: has a user or password in it`,
		`alerts[1].alertmanager.url: is required (like http://alertmanager:9093)`,
		`alerts[2].pagerduty.routing_key: is not a routing key (32 characters`,
		`alerts[3].opsgenie.url: is not an http(s) URL (like https://api.opsgenie.com)`,
		`alerts[4]: an alert is exactly one of webhook, email, command, alertmanager, pagerduty, opsgenie or url`,
		`alerts[5].webhook.method: "DELETE" is not one of POST, PUT, PATCH`,
		`alerts[5].webhook.format: a body replaces the format: leave format out, or the body`,
		`alerts[5].webhook.body: is not a Go template`,
		`alerts[5].webhook.headers: "Bad Name" is not a header name`,
		`alerts[5].webhook.headers.Host: is set by mailmon: leave it out`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short") || strings.Contains(err.Error(), "pw@") {
		t.Errorf("an error quotes a secret:\n%v", err)
	}
}
