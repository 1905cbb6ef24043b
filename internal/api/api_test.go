package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/vault"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
)

type fixture struct {
	srv   *httptest.Server
	api   *Server
	token string
	seen  bytes.Buffer // every response body, to search for secrets
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	// Its targets are fake servers on loopback: serve --allow-targets
	// 127.0.0.1/32,::1 and the example addresses and names its records use.
	allowed, err := egress.Parse([]string{"127.0.0.1/32", "127.0.0.2/32", "::1", "10.0.0.0/8", "*.example.test", "*.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return newPolicyFixture(t, allowed, nil)
}

// newPolicyFixture is a fixture whose API and engine hold targets set over
// the network to p (nil: the default policy), resolving names with r (nil:
// the system's).
func newPolicyFixture(t testing.TB, p *egress.Policy, r *net.Resolver) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("api-test-key-0123456789abc"))
	e := engine.New(engine.Options{Store: st, Vault: v, InstallationKey: keyfile.Key("api-test-installation-secret-0123"), Egress: p, Resolver: r})
	f := &fixture{api: &Server{Store: st, Engine: e, Vault: v, Egress: p, Resolver: r}, token: NewToken()}
	if err := st.PutToken(ctx, &store.Token{Name: "test", Hash: HashToken(f.token), Scopes: catalog.AllScopes.Names()}); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.api.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path string, body any, token string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f.seen.Write(b)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestEveryRouteNeedsAToken enumerates the router's own table.
func TestEveryRouteNeedsAToken(t *testing.T) {
	f := newFixture(t)
	for _, rt := range f.api.Routes() {
		path := strings.ReplaceAll(rt.Path, "{id}", "1")
		for _, tok := range []string{"", "mm_wrong", f.token + "x"} {
			code, _ := f.do(t, rt.Method, path, map[string]any{}, tok)
			if rt.Public {
				if code != http.StatusOK {
					t.Errorf("%s %s: %d without a token", rt.Method, rt.Path, code)
				}
				continue
			}
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", rt.Method, rt.Path, tok, code)
			}
		}
	}
}

func TestMonitorsSecretsWriteOnly(t *testing.T) {
	f := newFixture(t)
	target := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("220 x ESMTP\r\n")
		for l := c.ReadLine(); l != ""; l = c.ReadLine() {
			switch {
			case strings.HasPrefix(l, "EHLO"):
				c.Send("250-x\r\n250 AUTH PLAIN\r\n")
			case strings.HasPrefix(l, "AUTH"):
				c.Send("235 ok\r\n")
			case strings.HasPrefix(l, "QUIT"):
				c.Send("221 bye\r\n")
				return
			}
		}
	})
	// An alert with a relay password: write-only like every secret.
	code, al := f.do(t, "POST", "/api/v1/alerts", map[string]any{"relay_password": "relay-s3cret",
		"settings": map[string]any{"name": "pager", "email": map[string]any{"to": []string{"oncall@example.test"},
			"relay": map[string]any{"host": "smtp.example.test", "port": 587, "tls": "starttls", "user": "alerts@example.test"}}}}, f.token)
	if sec, _ := al["secrets"].(map[string]any); code != http.StatusCreated || sec["relay.password"] != true || al["kind"] != "email" {
		t.Fatalf("create alert: %d %v", code, al)
	}
	alertID := strconv.Itoa(int(al["id"].(float64)))
	if code, bad := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "x", "webhook": map[string]any{"url": "ftp://no"}}}, f.token); code != http.StatusBadRequest || bad["fields"].(map[string]any)["webhook.url"] == nil {
		t.Errorf("invalid alert: %d %v", code, bad)
	}
	if code, got := f.do(t, "PUT", "/api/v1/alerts/"+alertID, map[string]any{"settings": map[string]any{"name": "pager", "webhook": map[string]any{"url": "https://hooks.example.test/x"}}}, f.token); code != http.StatusOK || got["kind"] != "webhook" || got["secrets"].(map[string]any)["relay.password"] != nil ||
		len(got["secrets_dropped"].([]any)) != 1 || got["secrets_dropped"].([]any)[0] != "relay.password" {
		// An e-mail alert that becomes a webhook has no relay to send its password to.
		t.Errorf("update alert: %d %v", code, got)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/alerts/"+alertID, nil, f.token); code != http.StatusNoContent {
		t.Errorf("delete alert: %d", code)
	}
	if strings.Contains(f.seen.String(), "relay-s3cret") {
		t.Error("a response carried the relay password")
	}

	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("create device: %d %v", code, dev)
	}
	devID := int64(dev["id"].(float64))

	code, bad := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": devID,
		"settings": map[string]any{"name": "", "type": "smtp", "port": 70000, "tls": "ssl"}}, f.token)
	fields, _ := bad["fields"].(map[string]any)
	if code != http.StatusBadRequest || fields["name"] == nil || fields["port"] == nil || fields["tls"] == nil {
		t.Errorf("invalid monitor: %d %v", code, bad)
	}

	secret := "s3cret-submission-pw"
	code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": devID, "password": secret,
		"settings": map[string]any{"name": "Submission", "type": "smtp", "port": target.Port, "user": "u@example.test",
			"allow_plaintext_auth": true, "auth": "PLAIN"}}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("create monitor: %d %v", code, m)
	}
	id := strconv.Itoa(int(m["id"].(float64)))
	if sec, _ := m["secrets"].(map[string]any); sec["password"] != true {
		t.Errorf("secrets: %v", m["secrets"])
	}
	if m["state"] != "pending" || m["device"].(float64) != float64(devID) {
		t.Errorf("new monitor: %v", m)
	}
	code, res := f.do(t, "POST", "/api/v1/monitors/"+id+"/test", nil, f.token)
	if code != http.StatusOK || res["status"] != "up" || res["auth_mechanism"] != "PLAIN" {
		t.Fatalf("test now: %d %v", code, res)
	}
	_, got := f.do(t, "GET", "/api/v1/monitors/"+id, nil, f.token)
	if got["state"] != "up" || got["last_result"] == nil {
		t.Errorf("after a test: %v", got)
	}
	code, list := f.do(t, "GET", "/api/v1/monitors?state=up&device="+strconv.Itoa(int(devID)), nil, f.token)
	if code != http.StatusOK || list["total"].(float64) != 1 {
		t.Errorf("filtered list: %d %v", code, list)
	}
	if _, list := f.do(t, "GET", "/api/v1/monitors?state=down", nil, f.token); list["total"].(float64) != 0 {
		t.Errorf("state filter: %v", list)
	}
	for _, p := range []string{"/results", "/state-changes", "/alert-log", "/recovery-log"} {
		if code, _ := f.do(t, "GET", "/api/v1/monitors/"+id+p, nil, f.token); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}
	// Updating without a password keeps it.
	code, _ = f.do(t, "PUT", "/api/v1/monitors/"+id, map[string]any{"device": devID,
		"settings": map[string]any{"name": "Submission", "type": "smtp", "port": target.Port, "user": "u@example.test",
			"allow_plaintext_auth": true, "auth": "PLAIN", "ehlo": "api.test"}}, f.token)
	if code != http.StatusOK {
		t.Fatalf("update: %d", code)
	}
	if _, res := f.do(t, "POST", "/api/v1/monitors/"+id+"/test", nil, f.token); res["status"] != "up" {
		t.Errorf("the password was lost by an update: %v", res)
	}
	if strings.Contains(f.seen.String(), secret) {
		t.Error("a response carried the password")
	}
	// The two tests show in the report, once rolled up.
	if err := f.api.Engine.Tidy(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, rep := f.do(t, "GET", "/api/v1/reports", nil, f.token)
	mons, _ := rep["monitors"].([]any)
	if code != http.StatusOK || len(mons) != 1 || mons[0].(map[string]any)["tests"].(float64) != 2 || mons[0].(map[string]any)["availability_pct"].(float64) != 100 {
		t.Errorf("report: %d %v", code, rep)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/reports?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(string(body), "mail1,Submission,") {
		t.Errorf("csv report (%s):\n%s", ct, body)
	}
	if code, bad := f.do(t, "GET", "/api/v1/reports?from=yesterday", nil, f.token); code != http.StatusBadRequest || bad["fields"] == nil {
		t.Errorf("bad period: %d %v", code, bad)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/devices/"+strconv.Itoa(int(devID)), nil, f.token); code != http.StatusNoContent {
		t.Errorf("delete device: %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/monitors/"+id, nil, f.token); code != http.StatusNotFound {
		t.Errorf("monitor after its device was deleted: %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/nothing", nil, f.token); code != http.StatusNotFound {
		t.Errorf("unknown route: %d", code)
	}
}

// TestOpenAPIDocumentsEveryRoute: the document and the router agree.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	routes := map[string]bool{}
	for _, rt := range f.api.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Path
		routes[key] = true
		if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.yaml", rt.Method, rt.Path)
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !routes[m+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which the router does not serve", m, path)
			}
		}
	}
	code, _ := f.do(t, "GET", "/api/v1/openapi.yaml", nil, f.token)
	if code != http.StatusOK {
		t.Errorf("the document is not served: %d", code)
	}
}

func TestCredentialsWriteOnly(t *testing.T) {
	f := newFixture(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	host := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	code, c := f.do(t, "POST", "/api/v1/credentials", map[string]any{"name": "ops", "user": "root", "known_host": host, "password": "ssh-s3cret"}, f.token)
	if code != http.StatusCreated || c["secrets"].(map[string]any)["password"] != true || c["known_host"] != host {
		t.Fatalf("create: %d %v", code, c)
	}
	id := strconv.Itoa(int(c["id"].(float64)))
	if code, bad := f.do(t, "POST", "/api/v1/credentials", map[string]any{"name": "x", "user": "root", "known_host": "not a key", "password": "p"}, f.token); code != http.StatusBadRequest || bad["fields"].(map[string]any)["known_host"] == nil {
		t.Errorf("bad host key: %d %v", code, bad)
	}
	if code, bad := f.do(t, "POST", "/api/v1/credentials", map[string]any{"name": "y", "user": "root", "known_host": host}, f.token); code != http.StatusBadRequest {
		t.Errorf("no secret: %d %v", code, bad)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	code, c = f.do(t, "PUT", "/api/v1/credentials/"+id, map[string]any{"name": "ops", "user": "root", "known_host": host, "key": string(pem.EncodeToMemory(block))}, f.token)
	if sec := c["secrets"].(map[string]any); code != http.StatusOK || sec["key"] != true || sec["password"] != nil {
		t.Errorf("a key replaces the password: %d %v", code, c)
	}
	if _, list := f.do(t, "GET", "/api/v1/credentials", nil, f.token); list["total"].(float64) != 1 {
		t.Errorf("list: %v", list)
	}
	if strings.Contains(f.seen.String(), "ssh-s3cret") || strings.Contains(f.seen.String(), "PRIVATE KEY") {
		t.Error("a response carried a credential's secret")
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/credentials/"+id, nil, f.token); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
}
