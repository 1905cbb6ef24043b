package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/operator"
)

// writeRouteTakes says what each API route that writes takes: the settings
// of a monitor, an alert, a credential or a device, or no body at all
// (why). A route that writes and is missing here fails
// TestEveryWriteRouteRefusesCommandsAndPaths: say what it takes.
var writeRouteTakes = map[string]string{
	"POST /api/v1/devices":                     "device",
	"PUT /api/v1/devices/{id}":                 "device",
	"DELETE /api/v1/devices/{id}":              "-no body: deletes",
	"POST /api/v1/monitors":                    "monitor",
	"PUT /api/v1/monitors/{id}":                "monitor",
	"DELETE /api/v1/monitors/{id}":             "-no body: deletes",
	"POST /api/v1/monitors/{id}/test":          "-no body: tests the stored monitor",
	"POST /api/v1/monitors/{id}/ack":           "-a comment only: acknowledges the outage",
	"POST /api/v1/monitors/{id}/maintenance":   "-a duration only: begins maintenance",
	"DELETE /api/v1/monitors/{id}/maintenance": "-no body: ends maintenance",
	"POST /api/v1/devices/{id}/maintenance":    "-a duration only: begins maintenance",
	"DELETE /api/v1/devices/{id}/maintenance":  "-no body: ends maintenance",
	"POST /api/v1/alerts":                      "alert",
	"PUT /api/v1/alerts/{id}":                  "alert",
	"DELETE /api/v1/alerts/{id}":               "-no body: deletes",
	"POST /api/v1/alerts/{id}/test":            "-no body: sends a test alert through the stored alert",
	"POST /api/v1/credentials":                 "credential",
	"PUT /api/v1/credentials/{id}":             "credential",
	"DELETE /api/v1/credentials/{id}":          "-no body: deletes",
	"DELETE /api/v1/status-pages/{name}":       "-no body: deletes",
}

// operatorFieldsOf are the fields only the operator sets, from the tags
// of the configuration types: a new one is covered here at once.
func operatorFieldsOf(kind string) []config.OperatorField {
	switch kind {
	case "monitor":
		return config.OperatorFields(reflect.TypeFor[config.Monitor]())
	case "alert":
		return config.OperatorFields(reflect.TypeFor[config.Alert]())
	case "credential":
		return config.OperatorFields(reflect.TypeFor[config.Credential]())
	}
	return nil
}

// inputOf is the type the API decodes a kind's body into.
func inputOf(kind string) reflect.Type {
	switch kind {
	case "monitor":
		return reflect.TypeFor[monitorIn]()
	case "alert":
		return reflect.TypeFor[alertIn]()
	case "credential":
		return reflect.TypeFor[credentialIn]()
	}
	return reflect.TypeFor[deviceJSON]()
}

// attackValue is a value of type t that names a file (kind path) or runs
// a program that leaves marker behind (kind command).
func attackValue(t *testing.T, typ reflect.Type, kind, marker string) any {
	argv := []any{"/bin/sh", "-c", "id > " + marker}
	switch typ.Kind() {
	case reflect.Pointer:
		return attackValue(t, typ.Elem(), kind, marker)
	case reflect.String:
		if kind == config.OperatorPath {
			return "/etc/shadow"
		}
		return "/bin/sh -c 'id > " + marker + "'"
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.String {
			return argv
		}
		return []any{attackValue(t, typ.Elem(), kind, marker)}
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String {
				m[name] = argv
			}
		}
		if len(m) == 0 {
			t.Fatalf("no way to put a command into %v: teach attackValue", typ)
		}
		return m
	}
	t.Fatalf("no way to put a %s into %v: teach attackValue", kind, typ)
	return nil
}

// setPath sets a dotted path in nested maps, making them on the way.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// TestEveryWriteRouteRefusesCommandsAndPaths walks the router's table:
// every route that writes, with every field that runs a program or names
// a file (from the configuration types' tags) and every secret given as
// {file: PATH}, is refused, and nothing is stored or run.
func TestEveryWriteRouteRefusesCommandsAndPaths(t *testing.T) {
	f := newFixture(t)
	markers := t.TempDir()
	host := operator.HostKey(t)
	_, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	devID := dev["id"].(float64)
	base := map[string]func() map[string]any{
		"device": func() map[string]any { return map[string]any{"name": "mail2", "address": "127.0.0.2"} },
		"monitor": func() map[string]any {
			return map[string]any{"device": devID, "password": "pw", "settings": map[string]any{"name": "rt", "type": "imap-roundtrip",
				"port": 993, "tls": "implicit", "user": "u", "from": "a@example.test", "to": "u@example.test", "smtp": map[string]any{"port": 587, "tls": "starttls"}}}
		},
		"alert": func() map[string]any {
			return map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": "https://hooks.example.test/x"}}}
		},
		"credential": func() map[string]any {
			return map[string]any{"name": "ops", "user": "root", "known_host": host, "password": "pw"}
		},
	}
	// The objects the updates replace, made without commands or paths.
	ids := map[string]string{"device": strconv.Itoa(int(devID))}
	for _, kind := range []string{"monitor", "alert", "credential"} {
		path := "/api/v1/" + kind + "s"
		code, out := f.do(t, "POST", path, base[kind](), f.token)
		if code != http.StatusCreated {
			t.Fatalf("%s: %d %v", path, code, out)
		}
		ids[kind] = strconv.Itoa(int(out["id"].(float64)))
	}

	before := operator.Snapshot(t, f.api.Store)
	tried := 0
	for _, rt := range f.api.Routes() {
		if rt.Method == "GET" {
			continue
		}
		key := rt.Method + " " + rt.Path
		kind, ok := writeRouteTakes[key]
		if !ok {
			t.Errorf("%s writes: say in writeRouteTakes what it takes, so that it is tried with every command and path", key)
			continue
		}
		if strings.HasPrefix(kind, "-") {
			continue
		}
		path := strings.ReplaceAll(rt.Path, "{id}", ids[kind])
		type field struct {
			path, kind string
			typ        reflect.Type
			settings   bool // under "settings"
			own        bool // the route's input has it: refused as the operator's (403)
		}
		var fields []field
		kinds := []string{kind}
		if kind == "device" {
			kinds = []string{"monitor", "alert", "credential"}
		}
		for _, k := range kinds {
			for _, of := range operatorFieldsOf(k) {
				_, settings := inputOf(k).FieldByName("Settings")
				fields = append(fields, field{of.Path, of.Kind, of.Type, settings && kind != "device", k == kind})
			}
		}
		for name := range secretInputs {
			in := inputOf(kind)
			own := false
			for i := 0; i < in.NumField(); i++ {
				if jn, _, _ := strings.Cut(in.Field(i).Tag.Get("json"), ","); jn == name {
					own = true
				}
			}
			fields = append(fields, field{name, "secret", nil, false, own})
		}
		for _, fl := range fields {
			marker := filepath.Join(markers, strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "").Replace(key)+"-"+fl.path)
			body := base[kind]()
			var v any = map[string]any{"file": "/etc/shadow"}
			if fl.typ != nil {
				v = attackValue(t, fl.typ, fl.kind, marker)
			}
			if fl.settings {
				setPath(body["settings"].(map[string]any), fl.path, v)
			} else {
				setPath(body, fl.path, v)
			}
			tried++
			code, out := f.do(t, rt.Method, path, body, f.token)
			switch {
			case fl.own && code != http.StatusForbidden:
				t.Errorf("%s with %s: %d %v, want 403", key, fl.path, code, out)
			case fl.own:
				if msg, _ := out["fields"].(map[string]any)[fl.path].(string); !strings.Contains(msg, "mailmon apply -f") {
					t.Errorf("%s with %s: the answer does not name the field and say how to set it: %v", key, fl.path, out)
				}
			case code < 400 || code >= 500:
				t.Errorf("%s with %s: %d %v, want a refusal", key, fl.path, code, out)
			}
			if now := operator.Snapshot(t, f.api.Store); now != before {
				t.Fatalf("%s with %s: something was stored:\nbefore %s\nafter  %s", key, fl.path, before, now)
			}
		}
	}
	if tried == 0 {
		t.Fatal("no route was tried")
	}
	// Nothing ran: the stored monitor is tested until Down, which would
	// run a recovery, and no command left its marker.
	for range 2 {
		f.do(t, "POST", "/api/v1/monitors/"+ids["monitor"]+"/test", nil, f.token)
	}
	if left, _ := os.ReadDir(markers); len(left) > 0 {
		t.Errorf("commands ran: %v", left)
	}
}

// TestIssueRecoveryAttack is the issue's finding 1: a tcp monitor on a
// closed port, failures_per_alert 1, and a recovery command, created over
// the API, is refused, and nothing ever runs; a recovery the operator set
// with apply on the same device runs (so the test would see one run).
func TestIssueRecoveryAttack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	pwned, control := filepath.Join(dir, "pwned"), filepath.Join(dir, "control")
	port := freeClosedPort(t)
	_, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	settings := map[string]any{"name": "probe", "type": "tcp", "port": port, "notify": map[string]any{"failures_per_alert": 1},
		"recovery": []any{map[string]any{"command": []string{"/bin/sh", "-c", "id > " + pwned + "; head -2 /etc/shadow >> " + pwned}}}}
	code, out := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "settings": settings}, f.token)
	if code != http.StatusForbidden || out["fields"].(map[string]any)["recovery"] == nil {
		t.Fatalf("create with a recovery: %d %v", code, out)
	}
	if _, total, _ := f.api.Store.Monitors(ctx, store.MonitorFilter{}); total != 0 {
		t.Fatalf("%d monitors stored", total)
	}
	// Without it the monitor is created; adding it by an update is refused.
	rec := settings["recovery"]
	delete(settings, "recovery")
	code, out = f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "settings": settings}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	id := strconv.Itoa(int(out["id"].(float64)))
	settings["recovery"] = rec
	if code, out = f.do(t, "PUT", "/api/v1/monitors/"+id, map[string]any{"device": dev["id"], "settings": settings}, f.token); code != http.StatusForbidden {
		t.Fatalf("update with a recovery: %d %v", code, out)
	}

	operator.Apply(t, f.api.Store, f.api.Vault, `
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: control
        type: tcp
        port: `+strconv.Itoa(port)+`
        notify: {failures_per_alert: 1}
        recovery:
          - command: [/bin/sh, -c, "touch `+control+`"]
`)
	d, _ := f.api.Store.DeviceByName(ctx, "mail1")
	cm, err := f.api.Store.MonitorByName(ctx, d.ID, "control")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.api.Engine.Reload(ctx, cm.ID); err != nil {
		t.Fatal(err)
	}
	// Both go Down; the operator's recovery runs, the caller's does not exist.
	for _, m := range []string{id, strconv.FormatInt(cm.ID, 10)} {
		if code, out := f.do(t, "POST", "/api/v1/monitors/"+m+"/test", nil, f.token); code != http.StatusOK || out["status"] != "down" {
			t.Fatalf("test %s: %d %v", m, code, out)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, err := f.api.Store.Recoveries(ctx, cm.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 {
			if runs[0].Status != "ok" {
				t.Fatalf("the operator's recovery: %+v", runs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the operator's recovery did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(control); err != nil {
		t.Fatalf("the operator's recovery left no marker: %v", err)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("the caller's command ran")
	}
	if _, log := f.do(t, "GET", "/api/v1/monitors/"+id+"/recovery-log", nil, f.token); len(log["items"].([]any)) != 0 {
		t.Fatalf("recovery log of the caller's monitor: %v", log)
	}
}

// TestOperatorValuesRoundTrip: what the operator set with apply is shown
// by GET, and sent back unchanged by PUT it passes; adding, changing or
// removing one is refused, naming it. A monitor made over the API may
// still use an operator's command alert: a named, approved action.
func TestOperatorValuesRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ca := certs.NewCA(t).File(t)
	operator.Apply(t, f.api.Store, f.api.Vault, `
credentials:
  - {name: ops, user: root, known_host: "`+operator.HostKey(t)+`", password: ssh-pw}
alerts:
  - name: page
    command: {argv: [/usr/local/bin/page, --urgent], timeout: 5s}
  - name: mail
    email: {to: [oncall@example.test], relay: {host: smtp.example.test, port: 587, tls: starttls, ca: `+ca+`}}
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: rt
        type: imap-roundtrip
        port: 993
        tls: implicit
        ca: `+ca+`
        user: u
        auth: XOAUTH2
        oauth_token_command: [/usr/local/bin/token, --for, u]
        from: a@example.test
        to: u@example.test
        smtp: {port: 587, tls: starttls, ca: `+ca+`}
        recovery:
          - command: [/usr/local/bin/restart-dovecot]
            timeout: 30s
          - {ssh: root@mail1.example.test, credential: ops, command: [systemctl, restart, postfix]}
`)
	d, _ := f.api.Store.DeviceByName(ctx, "mail1")
	m, _ := f.api.Store.MonitorByName(ctx, d.ID, "rt")
	stored := string(m.Spec)
	path := "/api/v1/monitors/" + strconv.FormatInt(m.ID, 10)
	_, got := f.do(t, "GET", path, nil, f.token)
	settings := got["settings"].(map[string]any)
	if settings["recovery"] == nil || settings["ca"] != ca || settings["oauth_token_command"] == nil {
		t.Fatalf("GET does not show the operator's settings: %v", settings)
	}
	put := func(s map[string]any) (int, map[string]any) {
		return f.do(t, "PUT", path, map[string]any{"device": got["device"], "settings": s}, f.token)
	}
	settings["timing"].(map[string]any)["up_every"] = "10m"
	if code, out := put(settings); code != http.StatusOK {
		t.Fatalf("GET → PUT round trip: %d %v", code, out)
	}
	after, _ := f.api.Store.Monitor(ctx, m.ID)
	var spec config.Monitor
	json.Unmarshal(after.Spec, &spec)
	if spec.Timing.UpEvery.D() != 10*time.Minute || len(spec.Recovery) != 2 || spec.Recovery[0].Timeout.D() != 30*time.Second || spec.CA != ca {
		t.Fatalf("after the round trip: %s", after.Spec)
	}
	stored = string(after.Spec)
	clone := func() map[string]any {
		var c map[string]any
		b, _ := json.Marshal(settings)
		json.Unmarshal(b, &c)
		return c
	}
	for _, tc := range []struct {
		name, field string
		edit        func(s map[string]any)
	}{
		{"a recovery added", "recovery", func(s map[string]any) {
			s["recovery"] = append(s["recovery"].([]any), map[string]any{"command": []string{"/bin/sh", "-c", "id"}})
		}},
		{"a recovery changed", "recovery", func(s map[string]any) {
			s["recovery"].([]any)[0].(map[string]any)["command"] = []string{"/bin/sh", "-c", "id"}
		}},
		{"a recovery's timeout changed", "recovery", func(s map[string]any) { s["recovery"].([]any)[0].(map[string]any)["timeout"] = "1h" }},
		{"the recoveries removed", "recovery", func(s map[string]any) { delete(s, "recovery") }},
		{"the CA changed", "ca", func(s map[string]any) { s["ca"] = "/etc/shadow" }},
		{"the CA removed", "ca", func(s map[string]any) { s["ca"] = "" }},
		{"the SMTP CA changed", "smtp.ca", func(s map[string]any) { s["smtp"].(map[string]any)["ca"] = "/root/.ssh/id_rsa" }},
		{"the token command changed", "oauth_token_command", func(s map[string]any) { s["oauth_token_command"] = []string{"/bin/sh", "-c", "env"} }},
		{"a token file added", "oauth_token_file", func(s map[string]any) { s["oauth_token_file"] = "/var/lib/mailmon/storage.key" }},
	} {
		s := clone()
		tc.edit(s)
		code, out := put(s)
		if code != http.StatusForbidden || out["fields"].(map[string]any)[tc.field] == nil || len(out["fields"].(map[string]any)) != 1 {
			t.Errorf("%s: %d %v, want 403 naming %s", tc.name, code, out, tc.field)
		}
		if now, _ := f.api.Store.Monitor(ctx, m.ID); string(now.Spec) != stored {
			t.Errorf("%s: stored anyway: %s", tc.name, now.Spec)
		}
	}

	// Alerts: a command alert keeps its command through a rename.
	page, _ := f.api.Store.AlertByName(ctx, "page")
	apath := "/api/v1/alerts/" + strconv.FormatInt(page.ID, 10)
	_, a := f.do(t, "GET", apath, nil, f.token)
	as := a["settings"].(map[string]any)
	as["name"] = "pager"
	if code, out := f.do(t, "PUT", apath, map[string]any{"settings": as}, f.token); code != http.StatusOK || out["name"] != "pager" {
		t.Fatalf("rename a command alert: %d %v", code, out)
	}
	as["command"].(map[string]any)["argv"] = []string{"/bin/sh", "-c", "id"}
	if code, out := f.do(t, "PUT", apath, map[string]any{"settings": as}, f.token); code != http.StatusForbidden || out["fields"].(map[string]any)["command"] == nil {
		t.Errorf("change a command alert's argv: %d %v", code, out)
	}
	if code, out := f.do(t, "PUT", apath, map[string]any{"settings": map[string]any{"name": "pager", "webhook": map[string]any{"url": "https://x.example.test/"}}},
		f.token); code != http.StatusForbidden || out["fields"].(map[string]any)["command"] == nil {
		t.Errorf("turn a command alert into a webhook: %d %v", code, out)
	}
	mail, _ := f.api.Store.AlertByName(ctx, "mail")
	mpath := "/api/v1/alerts/" + strconv.FormatInt(mail.ID, 10)
	_, ma := f.do(t, "GET", mpath, nil, f.token)
	ms := ma["settings"].(map[string]any)
	ms["email"].(map[string]any)["to"] = []string{"other@example.test"}
	if code, out := f.do(t, "PUT", mpath, map[string]any{"settings": ms}, f.token); code != http.StatusOK {
		t.Errorf("edit an e-mail alert, its relay CA unchanged: %d %v", code, out)
	}
	ms["email"].(map[string]any)["relay"].(map[string]any)["ca"] = "/etc/shadow"
	if code, out := f.do(t, "PUT", mpath, map[string]any{"settings": ms}, f.token); code != http.StatusForbidden || out["fields"].(map[string]any)["email.relay.ca"] == nil {
		t.Errorf("change the relay CA: %d %v", code, out)
	}

	// A monitor made over the API may use the operator's command alert.
	code, out := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": got["device"], "alerts": []int64{page.ID},
		"settings": map[string]any{"name": "smtp", "type": "tcp", "port": 25}}, f.token)
	if code != http.StatusCreated || len(out["alerts"].([]any)) != 1 {
		t.Errorf("a monitor using the operator's command alert: %d %v", code, out)
	}
}
