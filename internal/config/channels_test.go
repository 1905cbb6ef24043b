package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestChannelAlerts: an alert by URL reads from YAML as the "url" kind,
// its URL sealed as "url" and never exported or stored in the spec (which
// keeps the service's name); a bad URL or a service mailmon does not offer
// names the field and the services offered, without quoting the URL.
func TestChannelAlerts(t *testing.T) {
	const good = `alerts:
  - name: team
    url: "ntfy://mailmon:t0pic-pa55@ntfy.example.test/s3cret-topic"
  - name: env
    url: {env: TEAM_URL}
`
	f, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Alerts[0]
	if a.Kind() != "url" || f.Alerts[1].Kind() != "url" {
		t.Errorf("kinds %q %q", a.Kind(), f.Alerts[1].Kind())
	}
	if sf := a.SealedFields(); len(sf) != 1 || sf[0].Name != "url" || sf[0].Ref.Value == "" {
		t.Errorf("sealed fields: %+v", sf)
	}
	a.SetService(a.URL.Value)
	spec, _ := json.Marshal(a)
	if string(spec) != `{"name":"team","service":"ntfy"}` {
		t.Errorf("the stored spec: %s", spec)
	}
	var back Alert
	if err := json.Unmarshal(spec, &back); err != nil || back.Kind() != "url" {
		t.Errorf("the stored spec's kind: %q %v", back.Kind(), err)
	}
	out, err := Marshal(f)
	if err != nil || strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "url: {env: TEAM_URL}") {
		t.Errorf("an export shows the URL (%v):\n%s", err, out)
	}

	const bad = `alerts:
  - name: a
    url: "matrix://bot:s3cret@matrix.example.test/?rooms=!r:x"
  - name: b
    url: "s3cret-not-a-url"
  - name: c
    url: "ntfy://ntfy.example.test/t?priority=s3cret"
`
	_, err = Parse("bad.yaml", []byte(bad))
	for _, want := range []string{
		`alerts[0].url: names the service "matrix", which mailmon does not offer: one of discord, gotify, mattermost, ntfy, pushover, rocketchat`,
		`alerts[1].url: is not a service URL: one of discord`,
		`alerts[2].url: is not a valid ntfy URL`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an error quotes the URL:\n%v", err)
	}
}
