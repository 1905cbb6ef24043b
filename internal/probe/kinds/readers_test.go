package kinds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/api"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/cli"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
	"github.com/mailmon/mailmon/internal/web"
)

// madeUp is a type no one registered.
const madeUp = "gopher-roundtrip"

// TestReadersTakeTheRegisteredTypes walks the registry: config validation,
// "mailmon check", the web form's type picker and the board's filter,
// discovery's proposals and /probe's type= each take exactly the
// registered types (those of them that they take at all, by the facts the
// registry gives) and refuse a made-up one, and each list they show is the
// registry's. A reader that kept a list of its own fails here as soon as
// the registry changes.
func TestReadersTakeTheRegisteredTypes(t *testing.T) {
	names := kinds.Names()
	if len(names) == 0 || slices.Contains(names, madeUp) {
		t.Fatalf("registry %v", names)
	}
	seen := map[string]bool{}
	for _, k := range kinds.All() {
		if k.Name == "" || seen[k.Name] || k.Probe == nil || k.Title == "" || k.Summary == "" {
			t.Errorf("type %q: a name of its own, a prober, a title and a summary are required", k.Name)
		}
		seen[k.Name] = true
		if got, ok := kinds.Lookup(k.Name); !ok || got.Name != k.Name {
			t.Errorf("Lookup(%q) = %q, %v", k.Name, got.Name, ok)
		}
	}
	if _, ok := kinds.Lookup(madeUp); ok {
		t.Errorf("Lookup(%q) found a type", madeUp)
	}
	// What the board's filter, the web form and /probe are served from.
	f := newReaders(t)

	t.Run("config", func(t *testing.T) {
		for _, typ := range append(slices.Clone(names), madeUp) {
			file := config.File{Devices: []config.Device{{Name: "d", Address: "mail.example.test",
				Monitors: []config.Monitor{{Name: "m", Type: typ}}}}}
			var typeErr string
			for _, e := range file.Validate() {
				if e.Path == "devices[0].monitors[0].type" {
					typeErr = e.Msg
				}
			}
			switch {
			case typ != madeUp && typeErr != "":
				t.Errorf("%s: %s", typ, typeErr)
			case typ == madeUp && !strings.HasPrefix(typeErr, fmt.Sprintf("%q is not one of %s", madeUp, strings.Join(names, ", "))): // then maybe a "did you mean"
				t.Errorf("%s: %q, want the registered types listed", typ, typeErr)
			}
		}
	})

	t.Run("check", func(t *testing.T) {
		// --help exits 3, as the plug-ins' does; an unknown type is a
		// usage error instead.
		for _, typ := range append(slices.Clone(names), madeUp) {
			code, stdout, _ := runCLI("check", typ, "--help")
			if known := typ != madeUp; code != cli.ExitUnknown || known == strings.Contains(stdout, "unknown type") || known != strings.Contains(stdout, "Exit codes:") {
				t.Errorf("mailmon check %s --help: exit %d: %s", typ, code, stdout)
			}
		}
		_, stdout, _ := runCLI("check", "--help")
		sorted := slices.Sorted(slices.Values(names))
		if !strings.Contains(stdout, "TYPE is one of "+strings.Join(sorted, ", ")+".\n") {
			t.Errorf("check's usage does not list %v: %s", sorted, stdout)
		}
		_, stdout, _ = runCLI("help")
		line := regexp.MustCompile(`(?s)mailmon check TYPE \[flags\]\s+test one service now \(([^)]*)\)`).FindStringSubmatch(stdout)
		if line == nil || !slices.Equal(strings.Fields(strings.ReplaceAll(line[1], ",", " ")), names) {
			t.Errorf("mailmon help does not list %v: %q", names, line)
		}
	})

	t.Run("web", func(t *testing.T) {
		b := f.login(t)
		dev, _, err := f.cat.SaveDevice(context.Background(), catalog.Operator, 0, catalog.Device{Name: "d", Address: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		newMonitor := fmt.Sprintf("/devices/%d/monitors/new", dev.ID)
		_, picker := b.get(t, newMonitor)
		if got := all(`data-type="([^"]+)"`, picker); !sameSet(got, names) {
			t.Errorf("the type picker offers %v, want %v", got, names)
		}
		// The form shows a type's own fields, and only its.
		var fields []string
		for _, k := range kinds.All() {
			fields = append(fields, k.Fields...)
		}
		slices.Sort(fields)
		fields = slices.Compact(fields)
		for _, k := range kinds.All() {
			_, page := b.get(t, newMonitor+"?type="+k.Name)
			for _, field := range fields {
				if shown := strings.Contains(page, `name="`+field+`"`); shown != k.Shows(field) {
					t.Errorf("the %s form shows %s: %v", k.Name, field, shown)
				}
			}
		}
		for _, typ := range append(slices.Clone(names), madeUp) {
			code, page := b.get(t, newMonitor+"?type="+url.QueryEscape(typ))
			form := strings.Contains(page, `id="monitor-form"`) && strings.Contains(page, "?type="+typ+`"`)
			if code != http.StatusOK || form != (typ != madeUp) {
				t.Errorf("?type=%s: %d, form %v", typ, code, form)
			}
			if typ == madeUp && !strings.Contains(page, "Pick the type of monitor") {
				t.Errorf("?type=%s does not come back to the picker", typ)
			}
		}
		if code, _ := b.do(t, "POST", newMonitor+"?type="+madeUp, url.Values{"name": {"x"}}); code != http.StatusBadRequest {
			t.Errorf("saving a %s: %d, want 400", madeUp, code)
		}
		_, board := b.get(t, "/")
		filter := regexp.MustCompile(`(?s)<select name="type">(.*?)</select>`).FindStringSubmatch(board)
		if filter == nil || !slices.Equal(all(`<option>([^<]+)</option>`, filter[1]), names) {
			t.Errorf("the board's type filter is not %v: %q", names, filter)
		}
		for _, typ := range append(slices.Clone(names), madeUp) {
			_, board := b.get(t, "/?type="+url.QueryEscape(typ))
			if selected := strings.Contains(board, "<option selected>"+typ+"</option>"); selected != (typ != madeUp) {
				t.Errorf("/?type=%s: selected %v", typ, selected)
			}
		}
	})

	t.Run("discover", func(t *testing.T) {
		var want []discover.Port
		host := discover.Host{Name: "mail.example.test"}
		proposed := map[string]bool{}
		for _, k := range kinds.All() {
			for _, s := range k.Services {
				want = append(want, discover.Port{Service: s.Name, Port: s.Port})
				host.Services = append(host.Services, discover.Service{Name: s.Name, Protocol: k.Protocol, Port: s.Port, Open: true, TLSMode: "none"})
				proposed[k.Name] = true
			}
		}
		if len(want) == 0 {
			t.Fatal("no type declares a service")
		}
		if got := discover.DefaultPorts(); !slices.Equal(got, want) {
			t.Errorf("discovery's well-known list %v, want the registry's %v", got, want)
		}
		for _, p := range want {
			if got, err := discover.ParsePorts(p.Service); err != nil || !slices.Equal(got, []discover.Port{p}) {
				t.Errorf("--ports %s: %v %v", p.Service, got, err)
			}
		}
		if _, err := discover.ParsePorts(madeUp + ":25"); err == nil {
			t.Errorf("--ports %s:25 was taken", madeUp)
		}
		file := discover.Proposal(&discover.Report{Hosts: []discover.Host{host}}, discover.Options{})
		var types []string
		for _, d := range file.Devices {
			for _, m := range d.Monitors {
				if !seen[m.Type] {
					t.Errorf("discovery proposes a %q monitor, not a registered type", m.Type)
				}
				types = append(types, m.Type)
			}
		}
		for typ := range proposed {
			if !slices.Contains(types, typ) {
				t.Errorf("discovery proposes no %s monitor for its services", typ)
			}
		}
		if errs := file.Validate(); len(errs) > 0 {
			t.Errorf("the proposal does not validate: %v", errs)
		}
		// A service that no type declares gets no monitor of its own.
		host.Services = []discover.Service{{Name: madeUp, Protocol: madeUp, Port: 2525, Open: true, TLSMode: "none"}}
		for _, d := range discover.Proposal(&discover.Report{Hosts: []discover.Host{host}}, discover.Options{}).Devices {
			for _, m := range d.Monitors {
				if !seen[m.Type] {
					t.Errorf("discovery proposes a %q monitor", m.Type)
				}
			}
		}
	})

	t.Run("probe", func(t *testing.T) {
		// /probe tests from the query alone a type with a port (the target
		// is host:port) or a domain-health type (the target is the domain)
		// that needs nothing stored (not a round trip, not dkim's
		// selectors).
		var adHoc []string
		for _, k := range kinds.All() {
			if (k.HasPort || k.Shows("resolver")) && !k.RoundTrip && !k.TokenOnly && !k.Shows("selectors") {
				adHoc = append(adHoc, k.Name)
			}
		}
		for _, typ := range append(slices.Clone(names), madeUp) {
			target := "127.0.0.1:1"
			if k, ok := kinds.Lookup(typ); ok && !k.HasPort {
				target = "example.test" // its resolver, the system's, is outside the loopback policy: nothing leaves
			}
			code, body := f.probe(t, "type="+url.QueryEscape(typ)+"&target="+target)
			fields, _ := body["fields"].(map[string]any)
			typeErr, _ := fields["type"].(string)
			if accepted := code == http.StatusOK; accepted != slices.Contains(adHoc, typ) || accepted == (typeErr != "") {
				t.Errorf("/probe?type=%s: %d %v", typ, code, body)
			}
			if k, _ := kinds.Lookup(typ); !k.RoundTrip && code != http.StatusOK && !strings.HasSuffix(typeErr, " is not one of "+strings.Join(adHoc, ", ")) {
				t.Errorf("/probe?type=%s: %q does not list %v", typ, typeErr, adHoc)
			}
		}
		// And the API's description says the same.
		_, doc := f.apiClient().get(t, "/api/v1/openapi.yaml")
		monitorEnum := regexp.MustCompile(`(?m)^\s+type: \{type: string, enum: \[([^]]*)\]\}`).FindStringSubmatch(doc)
		probeEnum := regexp.MustCompile(`(?m)\{name: type, in: query, schema: \{type: string, enum: \[([^]]*)\]\}\}`).FindStringSubmatch(doc)
		if monitorEnum == nil || !slices.Equal(strings.Split(monitorEnum[1], ", "), names) {
			t.Errorf("openapi.yaml's monitor types are not %v: %q", names, monitorEnum)
		}
		if probeEnum == nil || !slices.Equal(strings.Split(probeEnum[1], ", "), adHoc) {
			t.Errorf("openapi.yaml's /probe types are not %v: %q", adHoc, probeEnum)
		}
	})
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

func all(re, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// readers serves the web UI and the API as serve does, with a user and a
// token; the engine is there for /probe, not running.
type readers struct {
	api   *api.Server
	cat   *catalog.Catalog
	srv   *httptest.Server
	token string
}

const password = "correct horse battery"

func newReaders(t *testing.T) *readers {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kinds.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, err := vault.New([]byte("kinds-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	loopback := egress.Default().AllowLoopback()
	e := engine.New(engine.Options{Store: st, Vault: v, InstallationKey: []byte("kinds-test-secret-0123456789"), Egress: loopback})
	cat := &catalog.Catalog{Store: st, Vault: v, Egress: loopback}
	f := &readers{api: &api.Server{Store: st, Engine: e, Vault: v, Egress: loopback, Catalog: cat}, cat: cat, token: api.NewToken()}
	if err := st.PutToken(ctx, &store.Token{Name: "test", Hash: api.HashToken(f.token), Scopes: catalog.AllScopes.Names()}); err != nil {
		t.Fatal(err)
	}
	if _, err := web.AddUser(ctx, &catalog.Catalog{Store: st}, catalog.Operator, "admin", password, catalog.Admin, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", f.api.Handler())
	(&web.Server{Store: st, Engine: e, Catalog: cat, BcryptCost: bcrypt.MinCost}).Register(mux)
	f.srv = httptest.NewServer(web.Headers(mux, false))
	t.Cleanup(f.srv.Close)
	return f
}

// client is an HTTP client of the server: the API's with its bearer
// token, or the web UI's, keeping its session cookie and CSRF token.
type client struct {
	c                 *http.Client
	base, token, csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// do sends a request; a form goes with the page's CSRF token.
func (c *client) do(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", c.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

func (c *client) get(t *testing.T, path string) (int, string) { return c.do(t, "GET", path, nil) }

// probe asks /probe; a refusal's body is the API's error with its fields.
func (f *readers) probe(t *testing.T, query string) (int, map[string]any) {
	t.Helper()
	code, body := f.apiClient().get(t, "/probe?"+query)
	out := map[string]any{}
	if code != http.StatusOK {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("/probe?%s: %d %s", query, code, body)
		}
	}
	return code, out
}

func (f *readers) apiClient() *client {
	return &client{c: http.DefaultClient, base: f.srv.URL, token: f.token}
}

// login is a logged-in client of the web UI.
func (f *readers) login(t *testing.T) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.get(t, "/login")
	if code, _ := c.do(t, "POST", "/login", url.Values{"name": {"admin"}, "password": {password}, "next": {"/"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	c.get(t, "/") // the session's CSRF token
	return c
}
