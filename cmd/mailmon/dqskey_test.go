package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestDQSKeyFromYAML: a dnsbl monitor's dqs_key, applied from the YAML,
// moves its Spamhaus lookups to KEY.zen.dq.spamhaus.net (served here by
// the harness's NSD, asked through its unbound), and the key shows in no
// result, transcript, API answer, export, log or database file; the API
// shows only that it is set, keeps it on a save without it, and refuses a
// key that is not letters and digits, naming dqs_key.
func TestDQSKeyFromYAML(t *testing.T) {
	const key = "dqsk3ys3cret0042"
	dns := realdns.Start(t, realdns.Zone{Name: "dq.spamhaus.net", Unsigned: true, Records: `
99.2.0.192.` + key + `.zen A 127.0.0.4
99.2.0.192.` + key + `.zen TXT "listed through DQS"
`})
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	cfg := filepath.Join(dir, "dqs.yaml")
	os.WriteFile(cfg, []byte(`devices:
  - name: sender
    address: 192.0.2.99
    monitors:
      - name: Blocklists
        type: dnsbl
        resolver: `+dns.Resolver+`
        zones: [zen.spamhaus.org]
        dqs_key: {env: DQS_KEY}
        timing: {max_duration: 5s, up_every: 1h}
`), 0o600)
	env := []string{"DQS_KEY=" + key, "MAILMON_SECRET=dqs-test-installation-secret-0123456789"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)
	d := startDaemon(t, db, env)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, d.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	outputs := map[string]string{}
	code, res := call("POST", "/api/v1/monitors/1/test", "")
	if code != 200 || !strings.Contains(res, `"code":"listed"`) || !strings.Contains(res, "zen.spamhaus.org") || !strings.Contains(res, "listed through DQS") {
		t.Fatalf("test now: HTTP %d\n%s\n%s", code, res, d.stderr.String())
	}
	outputs["POST test"] = res
	_, outputs["GET results"] = call("GET", "/api/v1/monitors/1/results", "")
	code, mon := call("GET", "/api/v1/monitors/1", "")
	if code != 200 || !strings.Contains(mon, `"dqs_key":true`) {
		t.Errorf("GET monitor: HTTP %d, want the key shown as set:\n%s", code, mon)
	}
	outputs["GET monitor"] = mon
	// A save without the key keeps it; a bad key is refused at its field.
	settings := `{"name":"Blocklists","type":"dnsbl","resolver":"` + dns.Resolver + `","zones":["zen.spamhaus.org"],"timing":{"max_duration":"5s","up_every":"1h"}}`
	code, put := call("PUT", "/api/v1/monitors/1", `{"device":1,"settings":`+settings+`}`)
	if code != 200 || !strings.Contains(put, `"dqs_key":true`) {
		t.Errorf("PUT without the key: HTTP %d, want it kept:\n%s", code, put)
	}
	outputs["PUT"] = put
	code, bad := call("PUT", "/api/v1/monitors/1", `{"device":1,"settings":`+settings+`,"dqs_key":"a.b.zen"}`)
	if code != 400 || !strings.Contains(bad, "dqs_key") || !strings.Contains(bad, "letters and digits") {
		t.Errorf("PUT with a bad key: HTTP %d:\n%s", code, bad)
	}
	code, again := call("POST", "/api/v1/monitors/1/test", "")
	if code != 200 || !strings.Contains(again, `"code":"listed"`) {
		t.Errorf("after the save without the key: HTTP %d\n%s", code, again)
	}
	outputs["POST test again"] = again
	if err := d.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	outputs["the log"] = d.stderr.String()
	code, exported, errOut, _ := mailmon(t, nil, "export", "--db", db)
	if code != 0 || !strings.Contains(exported, "dqs_key: {env: MAILMON_SECRET_SENDER_BLOCKLISTS_DQS_KEY}") {
		t.Errorf("export: exit %d\n%s%s", code, exported, errOut)
	}
	outputs["the export"] = exported
	files, _ := filepath.Glob(db + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		outputs["the database file "+filepath.Base(f)] = string(b)
	}
	for where, text := range outputs {
		if strings.Contains(strings.ToLower(text), key) {
			t.Errorf("the key is in %s:\n%s", where, text)
		}
	}
}
