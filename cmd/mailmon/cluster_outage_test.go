package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// events is a webhook receiver that keeps every payload, in the order
// received.
type events struct {
	mu  sync.Mutex
	got []alert.GenericPayload
}

func startEvents(t *testing.T) (*events, string) {
	e := &events{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alert.GenericPayload
		json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&p)
		e.mu.Lock()
		e.got = append(e.got, p)
		e.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return e, srv.URL
}

// of are the events of one monitor, as "event:state" (or with device:
// "device event:state").
func (e *events) of(monitor string, withDevice bool) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range e.got {
		if p.Monitor == monitor {
			s := p.Event + ":" + p.State
			if withDevice {
				s = p.Device + " " + s
			}
			out = append(out, s)
		}
	}
	return out
}

// getText GETs url with token (none if "") and returns the status and
// body.
func getText(url, token string) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// TestDatabaseOutage: PostgreSQL stops under two nodes for several
// seconds. Each node's /healthz and /readyz answer 503 saying why, the API
// answers 503 "database unavailable" to a valid token (it said 401 "the
// token is not valid"), the UI's pages carry a banner, and each node tells
// the webhook set on its host; once PostgreSQL is back, all is well again,
// each node says so once, and every monitor is tested again.
func TestDatabaseOutage(t *testing.T) {
	db := realpg.NewDB(t)
	const every, lease = 1500 * time.Millisecond, 2 * time.Second
	f := startFarm(t, 20)
	_, hookURL := startHook(t)
	applyFarm(t, db, f, hookURL, every, "")
	token := apiToken(t, db)
	local, localURL := startEvents(t)
	nodes := map[string]*daemon{}
	for _, name := range []string{"n1", "n2"} {
		nodes[name] = startNode(t, db, clusterEnv, "--node", name, "--lease", lease.String(), "--min-interval", every.String(),
			"--db-alert-webhook", localURL, "--db-alert-after", "1s")
	}
	c := pgConn(t, db)
	waitFor(t, "20 monitors shared by 2 nodes", 20*time.Second, func() bool {
		l := leasesByNode(t, c)
		return l["n1"] == 10 && l["n2"] == 10
	})
	c.Close(t.Context())
	expect := func(when string, within time.Duration, want map[string]int, body map[string]string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			var wrong []string
			for name, d := range nodes {
				for path, code := range want {
					tk := ""
					if strings.HasPrefix(path, "/api/") {
						tk = token
					}
					got, text := getText(d.url+path, tk)
					if got != code || !strings.Contains(text, body[path]) {
						wrong = append(wrong, fmt.Sprintf("%s %s: %d %.200s", name, path, got, text))
					}
				}
			}
			if len(wrong) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s", when, strings.Join(wrong, "\n"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	expect("the database up", 5*time.Second, map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/monitors": 200, "/login": 200},
		map[string]string{"/login": "Log in"})

	srv := realpg.Start(t)
	srv.Halt()
	t.Cleanup(func() { srv.Resume() })
	halted := time.Now()
	expect("the database stopped", 10*time.Second, map[string]int{"/healthz": 503, "/readyz": 503, "/api/v1/monitors": 503, "/login": 200},
		map[string]string{"/healthz": "the database is unreachable", "/readyz": "the database is unreachable",
			"/api/v1/monitors": `"error":"database unavailable"`, "/login": `id="banner"`})
	t.Logf("both nodes said so %v after the database stopped", time.Since(halted).Round(time.Millisecond))
	waitFor(t, "each node's local alert", 10*time.Second, func() bool { return len(local.of("database", false)) == 2 })
	if got := local.of("database", true); !(got[0] == "n1 alert:down" && got[1] == "n2 alert:down" || got[0] == "n2 alert:down" && got[1] == "n1 alert:down") {
		t.Errorf("local alerts %v", got)
	}
	time.Sleep(max(0, 4*time.Second-time.Since(halted))) // past every heartbeat's life

	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	expect("the database back", 15*time.Second, map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/monitors": 200}, nil)
	t.Logf("both nodes healthy %v after the database came back", time.Since(resumed).Round(time.Millisecond))
	waitFor(t, "each node's local recovery", 10*time.Second, func() bool { return len(local.of("database", false)) == 4 })
	c = pgConn(t, db)
	waitFor(t, "every monitor tested again", lease+3*every+5*time.Second, func() bool {
		n := 0
		for _, rs := range resultsByMonitor(t, c) {
			if rs[len(rs)-1].t.After(resumed) {
				n++
			}
		}
		return n == 20
	})
	time.Sleep(every)
	if got := local.of("database", false); len(got) != 4 || got[2] != "recovery:up" || got[3] != "recovery:up" {
		t.Errorf("local events %v, want each node's alert and recovery once", got)
	}
}
