package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/flakystore"
)

// TestDatabaseDownPage: while the database is away, every page says so in
// a banner, and a page that needs it answers 503 saying why, rather than
// sending a logged-in user to the login form.
func TestDatabaseDownPage(t *testing.T) {
	ctx := context.Background()
	st := flakystore.Open(t)
	db := st.Store
	e := flakystore.Engine(t, st)
	u, err := AddUser(ctx, db, "admin", testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	const cookie = "the-session-cookie"
	now := time.Now()
	if err := db.PutSession(ctx, &store.Session{Hash: hashID(cookie), UserID: u.ID, CSRF: "c", Created: now, Seen: now}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&Server{Store: st, Engine: e}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	if code, page := get("/"); code != 200 || strings.Contains(page, `id="banner"`) {
		t.Fatalf("the board with the database up: %d\n%.300s", code, page)
	}
	st.Down.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for e.Health().Database == "" {
		if time.Now().After(deadline) {
			t.Fatal("the health checks did not notice")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, page := get("/"); code != http.StatusServiceUnavailable || !strings.Contains(page, "The database is unavailable") {
		t.Errorf("the board with the database down: %d, want 503 saying why\n%.600s", code, page)
	}
	if code, page := get("/login"); code != 200 || !strings.Contains(page, `id="banner"`) || !strings.Contains(page, "connection refused") {
		t.Errorf("the login page with the database down: %d, want the banner\n%.600s", code, page)
	}
	st.Down.Store(false)
	for e.Health().Database != "" {
		time.Sleep(10 * time.Millisecond)
	}
	if code, page := get("/"); code != 200 || strings.Contains(page, `id="banner"`) {
		t.Errorf("the board with the database back: %d", code)
	}
}
