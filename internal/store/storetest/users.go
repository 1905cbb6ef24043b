package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func users(t *testing.T, s store.Store) {
	u := &store.User{Name: "admin", Hash: "$2a$10$first"}
	must(t, s.PutUser(ctx, u))
	if u.ID == 0 || u.Created.IsZero() {
		t.Fatalf("created user %+v", u)
	}
	if err := s.PutUser(ctx, &store.User{Name: "admin", Hash: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	u.Hash = "$2a$10$second"
	must(t, s.PutUser(ctx, u))
	got, err := s.UserByName(ctx, "admin")
	if err != nil || got.ID != u.ID || got.Hash != "$2a$10$second" {
		t.Errorf("UserByName = %+v, %v", got, err)
	}
	if _, err := s.UserByName(ctx, "ADMIN"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("names are exact: %v", err)
	}
	if err := s.PutUser(ctx, &store.User{ID: 9999, Name: "ghost", Hash: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating a missing user: %v", err)
	}
	must(t, s.PutUser(ctx, &store.User{Name: "bob", Hash: "h"}))
	list, err := s.Users(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "admin" || list[1].Name != "bob" {
		t.Errorf("Users = %+v, %v", list, err)
	}
	if got, err := s.User(ctx, u.ID); err != nil || got.Name != "admin" {
		t.Errorf("User = %+v, %v", got, err)
	}
	must(t, s.DeleteUser(ctx, list[1].ID))
	if err := s.DeleteUser(ctx, list[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func sessions(t *testing.T, s store.Store) {
	u := &store.User{Name: "admin", Hash: "h"}
	must(t, s.PutUser(ctx, u))
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	a := &store.Session{Hash: "hash-a", UserID: u.ID, CSRF: "csrf-a", Created: t0, Seen: t0}
	must(t, s.PutSession(ctx, a))
	must(t, s.PutSession(ctx, &store.Session{Hash: "hash-b", UserID: u.ID, CSRF: "csrf-b", Created: t0.Add(-48 * time.Hour), Seen: t0}))
	must(t, s.PutSession(ctx, &store.Session{Hash: "hash-c", UserID: u.ID, CSRF: "csrf-c", Created: t0, Seen: t0.Add(-2 * time.Hour)}))
	if err := s.PutSession(ctx, &store.Session{Hash: "hash-x", UserID: 9999, CSRF: "x"}); err == nil {
		t.Error("a session of a missing user was stored")
	}
	got, err := s.SessionByHash(ctx, "hash-a")
	if err != nil || got.UserID != u.ID || got.CSRF != "csrf-a" || !got.Created.Equal(t0) || !got.Seen.Equal(t0) {
		t.Fatalf("SessionByHash = %+v, %v", got, err)
	}
	must(t, s.TouchSession(ctx, "hash-a", t0.Add(time.Minute)))
	if got, _ := s.SessionByHash(ctx, "hash-a"); got == nil || !got.Seen.Equal(t0.Add(time.Minute)) {
		t.Errorf("touch lost: %+v", got)
	}
	// idle: seen over an hour ago; absolute: created over a day ago.
	n, err := s.PruneSessions(ctx, t0.Add(-time.Hour), t0.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("PruneSessions = %d, %v; want 2", n, err)
	}
	for _, h := range []string{"hash-b", "hash-c"} {
		if _, err := s.SessionByHash(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s survived the prune: %v", h, err)
		}
	}
	must(t, s.PutSession(ctx, &store.Session{Hash: "hash-d", UserID: u.ID, CSRF: "d"}))
	must(t, s.DeleteSessions(ctx, u.ID, "hash-a"))
	if _, err := s.SessionByHash(ctx, "hash-d"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other session survived DeleteSessions: %v", err)
	}
	if _, err := s.SessionByHash(ctx, "hash-a"); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	must(t, s.DeleteSession(ctx, "hash-a"))
	if err := s.DeleteSession(ctx, "hash-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if err := s.TouchSession(ctx, "hash-a", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touching a deleted session: %v", err)
	}
	// A deleted user's sessions go with it.
	must(t, s.PutSession(ctx, &store.Session{Hash: "hash-e", UserID: u.ID, CSRF: "e"}))
	must(t, s.DeleteUser(ctx, u.ID))
	if _, err := s.SessionByHash(ctx, "hash-e"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a deleted user: %v", err)
	}
}

func monitorSearch(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	for _, n := range []string{"IMAP login", "imap round trip", "SMTP", "100% up", "a_b"} {
		newMonitor(t, s, d.ID, n, "smtp")
	}
	for q, want := range map[string]int{"imap": 2, "IMAP": 2, "smtp": 1, "%": 1, "_": 1, "zzz": 0, "": 5} {
		if _, total, err := s.Monitors(ctx, store.MonitorFilter{Search: q}); err != nil || total != want {
			t.Errorf("Search %q: %d, %v; want %d", q, total, err, want)
		}
	}
	if list, total, _ := s.Monitors(ctx, store.MonitorFilter{Search: "imap", Page: store.Page{Limit: 1, Offset: 1}}); total != 2 || len(list) != 1 {
		t.Errorf("Search paged: %d %v", total, list)
	}
}
