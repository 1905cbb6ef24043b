package oauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/oauth"
)

// TestStoredRefreshTokenAdopted: a flow whose stored refresh token was
// rotated by another process refreshes with the stored one, not the one
// it was made with; when the store changes between its read and its
// request (invalid_grant), it reads again and tries once more; a stored
// token of its own lineage (older) is not taken back.
func TestStoredRefreshTokenAdopted(t *testing.T) {
	srv, ca := server(t, time.Hour)
	srv.SetRotate(true)
	rt := srv.IssueRefresh(clientID, mailbox, "")
	clk := &clock{t: time.Now()}
	cache := &oauth.Cache{Now: clk.now}

	// Another process rotates rt: the store holds its successor.
	var mu sync.Mutex
	store := rt
	keep := func(_ context.Context, r string) error { mu.Lock(); store = r; mu.Unlock(); return nil }
	other := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: rt, CAFile: ca,
		Cache: &oauth.Cache{}, Owner: "1", Rotated: keep}
	if _, err := other.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: rt, CAFile: ca, Cache: cache, Owner: "1",
		Rotated: keep, Stored: func(context.Context) (string, error) { mu.Lock(); defer mu.Unlock(); return store, nil }}
	if _, err := f.Token(t.Context()); err != nil {
		t.Fatalf("with the stored successor: %v", err)
	}
	// The race: the first read sees a token the other process is about to
	// rotate away; the request fails; the second read has the new one.
	clk.add(2 * time.Hour)
	mu.Lock()
	mine := store
	mu.Unlock()
	other.RefreshToken = mine
	other.Cache = &oauth.Cache{}
	if _, err := other.Token(t.Context()); err != nil { // rotates mine away, stores its successor
		t.Fatal(err)
	}
	mu.Lock()
	next := store
	store = mine // what the first read will see
	mu.Unlock()
	first := true
	f.Stored = func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if first {
			first = false
			return store, nil
		}
		return next, nil
	}
	if _, err := f.Token(t.Context()); err != nil {
		t.Fatalf("after a rotation between read and request: %v", err)
	}
	if n := srv.Reused(); n != 1 {
		t.Errorf("%d reuses of a rotated-out token, want the 1 of the race", n)
	}
	// An older token of its own lineage in the store is not taken back.
	clk.add(2 * time.Hour)
	f.Stored = func(context.Context) (string, error) { return rt, nil }
	if _, err := f.Token(t.Context()); err != nil {
		t.Fatalf("with an old token of its lineage stored: %v", err)
	}
	if n := srv.Reused(); n != 1 {
		t.Errorf("an old stored token was used again: %d reuses", n)
	}
}

// TestRotationStoredLateIsAwaited: two nodes refresh at the same instant;
// the other one's rotation is stored only a moment after this node's
// request was refused (invalid_grant). This node waits for it and
// succeeds instead of failing its test.
func TestRotationStoredLateIsAwaited(t *testing.T) {
	srv, ca := server(t, time.Hour)
	srv.SetRotate(true)
	rt := srv.IssueRefresh(clientID, mailbox, "")
	var mu sync.Mutex
	store := rt
	keep := func(_ context.Context, r string) error { mu.Lock(); store = r; mu.Unlock(); return nil }
	reads := 0
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: rt, CAFile: ca,
		Cache: &oauth.Cache{}, Owner: "1", Rotated: keep}
	// The other node refreshes first and rotates rt away, but its store
	// lands only after this node's first two reads.
	var otherNext string
	other := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: rt, CAFile: ca,
		Cache: &oauth.Cache{}, Owner: "1", Rotated: func(_ context.Context, r string) error { otherNext = r; return nil }}
	if _, err := other.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if otherNext == "" || otherNext == rt {
		t.Fatalf("the other node got no rotated token (%q)", otherNext)
	}
	f.Stored = func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		if reads == 3 {
			store = otherNext // the other node's store lands
		}
		return store, nil
	}
	if _, err := f.Token(t.Context()); err != nil {
		t.Fatalf("a rotation stored a moment late: %v", err)
	}
	if reads < 3 {
		t.Errorf("%d reads of the store, want the one that saw the rotation", reads)
	}
}
