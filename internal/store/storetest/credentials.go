package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func credentials(t *testing.T, s store.Store) {
	c := &store.Credential{Name: "root-pw", Spec: json.RawMessage(`{"user":"root","known_host":"ssh-ed25519 AAAA"}`),
		Secrets: map[string]string{"password": "v1:sealed"}}
	must(t, s.PutCredential(ctx, c))
	if c.ID == 0 || c.Created.IsZero() || c.Created.Location() != time.UTC {
		t.Fatalf("created credential %+v", c)
	}
	if err := s.PutCredential(ctx, &store.Credential{Name: "root-pw"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	got, err := s.Credential(ctx, c.ID)
	if err != nil || got.Name != "root-pw" || got.Secrets["password"] != "v1:sealed" || !got.Created.Equal(c.Created) {
		t.Fatalf("Credential = %+v, %v", got, err)
	}
	var spec map[string]string
	if err := json.Unmarshal(got.Spec, &spec); err != nil || spec["user"] != "root" {
		t.Errorf("spec = %s, %v", got.Spec, err)
	}

	// An update replaces the secrets: switching from a password to a key
	// leaves no password behind.
	c.Secrets = map[string]string{"key": "v1:sealed-key"}
	c.Spec = json.RawMessage(`{"user":"ops","known_host":"ssh-ed25519 BBBB"}`)
	must(t, s.PutCredential(ctx, c))
	got, err = s.CredentialByName(ctx, "root-pw")
	if err != nil || got.ID != c.ID || got.Secrets["key"] != "v1:sealed-key" || got.Secrets["password"] != "" || got.Updated.Before(got.Created) {
		t.Errorf("CredentialByName after update = %+v, %v", got, err)
	}
	if _, err := s.CredentialByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing name: %v", err)
	}
	empty := &store.Credential{Name: "bare"}
	must(t, s.PutCredential(ctx, empty))
	if got, err := s.Credential(ctx, empty.ID); err != nil || len(got.Secrets) != 0 || string(got.Spec) != "{}" {
		t.Errorf("credential without spec or secrets = %+v, %v", got, err)
	}

	for _, n := range []string{"c", "d", "e"} {
		must(t, s.PutCredential(ctx, &store.Credential{Name: n}))
	}
	list, total, err := s.Credentials(ctx, store.Page{Limit: 2, Offset: 1})
	if err != nil || total != 5 || len(list) != 2 || list[0].Name != "c" || list[1].Name != "d" {
		t.Errorf("Credentials page = %+v, %d, %v", list, total, err)
	}

	must(t, s.DeleteCredential(ctx, c.ID))
	if _, err := s.Credential(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted credential: %v", err)
	}
	if err := s.DeleteCredential(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if err := s.PutCredential(ctx, &store.Credential{ID: 9999, Name: "ghost"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating a missing credential: %v", err)
	}
	if err := s.PutCredential(ctx, &store.Credential{ID: empty.ID, Name: "c"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("renaming onto a taken name: %v", err)
	}
}
