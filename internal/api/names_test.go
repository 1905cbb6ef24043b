package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// hiddenNames are names that show as something else: a terminal escape,
// C1 controls, bidirectional overrides, isolates and marks.
var hiddenNames = map[string]string{
	"escape":   "mail\x1b[2J1",
	"C1 CSI":   "mail\u009b2J1",
	"RLO":      "gpj\u202eexe.txt",
	"LRE":      "mail\u202a1",
	"isolates": "mail\u2066x\u2069",
	"RLM":      "mail\u200f1",
	"ALM":      "mail\u061c1",
	"DEL":      "mail\x7f1",
}

// TestNamesRefuseHiddenCharacters: every object with a name refuses a
// control or text-direction character in it, on create and update, with
// the name field named.
func TestNamesRefuseHiddenCharacters(t *testing.T) {
	f := newFixture(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	host := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))

	_, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	devID := int64(dev["id"].(float64))
	_, mon := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": devID, "settings": map[string]any{"name": "SMTP", "type": "smtp"}}, f.token)
	_, al := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": "https://hooks.example.test/x"}}}, f.token)
	_, cr := f.do(t, "POST", "/api/v1/credentials", map[string]any{"name": "ops", "user": "root", "known_host": host, "password": "p"}, f.token)
	id := func(m map[string]any) string {
		if m == nil || m["id"] == nil {
			t.Fatalf("fixture object not created: %v", m)
		}
		return strconv.Itoa(int(m["id"].(float64)))
	}
	objects := []struct {
		kind, path, update string
		body               func(name string) map[string]any
	}{
		{"device", "/api/v1/devices", "/api/v1/devices/" + id(dev), func(n string) map[string]any {
			return map[string]any{"name": n, "address": "127.0.0.1"}
		}},
		{"monitor", "/api/v1/monitors", "/api/v1/monitors/" + id(mon), func(n string) map[string]any {
			return map[string]any{"device": devID, "settings": map[string]any{"name": n, "type": "smtp"}}
		}},
		{"alert", "/api/v1/alerts", "/api/v1/alerts/" + id(al), func(n string) map[string]any {
			return map[string]any{"settings": map[string]any{"name": n, "webhook": map[string]any{"url": "https://hooks.example.test/x"}}}
		}},
		{"credential", "/api/v1/credentials", "/api/v1/credentials/" + id(cr), func(n string) map[string]any {
			return map[string]any{"name": n, "user": "root", "known_host": host, "password": "p"}
		}},
	}
	for _, o := range objects {
		for what, name := range hiddenNames {
			for _, call := range []struct{ method, path string }{{"POST", o.path}, {"PUT", o.update}} {
				code, out := f.do(t, call.method, call.path, o.body(name), f.token)
				fields, _ := out["fields"].(map[string]any)
				msg, _ := fields["name"].(string)
				if code != http.StatusBadRequest || !strings.Contains(msg, "control or text-direction character") {
					t.Errorf("%s %s (%s, name %q): %d %v", call.method, o.kind, what, name, code, out)
				}
			}
		}
	}
}
