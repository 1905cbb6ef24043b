package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/flakystore"
)

// TestDatabaseDown: while the database is away, /healthz and /readyz say
// so (503, with the reason), and the API answers 503 "database
// unavailable", never 401 for a token it could not check; all is well
// again once it is back.
func TestDatabaseDown(t *testing.T) {
	ctx := context.Background()
	st := flakystore.Open(t)
	db := st.Store
	e := flakystore.Engine(t, st)
	token := NewToken()
	if err := db.PutToken(ctx, &store.Token{Name: "t", Hash: HashToken(token), Scopes: catalog.AllScopes.Names()}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: st, Engine: e}).Handler())
	defer srv.Close()
	get := func(path, tok string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, resp.Header.Get("Retry-After"), " ")
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	expect := func(when string, want map[string]int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var wrong []string
			for path, code := range want {
				tok := token
				if strings.HasPrefix(path, "wrong:") {
					path, tok = strings.TrimPrefix(path, "wrong:"), "mm_wrong"
				}
				if got, body := get(path, tok); got != code {
					wrong = append(wrong, fmt.Sprintf("%s: %d %s", path, got, body))
				}
			}
			if len(wrong) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v", when, wrong)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	expect("database up", map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/monitors": 200, "wrong:/api/v1/monitors": 401})
	st.Down.Store(true)
	expect("database down", map[string]int{"/healthz": 503, "/readyz": 503, "/api/v1/monitors": 503, "wrong:/api/v1/monitors": 503})
	if _, body := get("/api/v1/monitors", token); !strings.Contains(body, `"error":"database unavailable"`) || !strings.HasPrefix(body, "5 ") {
		t.Errorf("the API while the database is down: %s", body)
	}
	if _, body := get("/healthz", ""); !strings.Contains(body, "the database is unreachable") || !strings.Contains(body, "connection refused") {
		t.Errorf("/healthz while the database is down: %s", body)
	}
	st.Down.Store(false)
	expect("database back", map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/monitors": 200, "wrong:/api/v1/monitors": 401})
}
