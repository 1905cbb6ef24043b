package storetest

import (
	"errors"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// statusPages: created, read by name, listed by name, updated, a name
// taken twice refused, deleted.
func statusPages(t *testing.T, s store.Store) {
	b := &store.StatusPage{Name: "b", Public: true, Spec: []byte(`{"title":"B"}`)}
	must(t, s.PutStatusPage(ctx, b))
	a := &store.StatusPage{Name: "a", Spec: []byte(`{"title":"A"}`)}
	must(t, s.PutStatusPage(ctx, a))
	if a.ID == 0 || a.ID == b.ID {
		t.Fatalf("ids %d, %d", a.ID, b.ID)
	}
	got, err := s.StatusPageByName(ctx, "b")
	if err != nil || got.ID != b.ID || !got.Public || string(got.Spec) != `{"title":"B"}` || got.Created.IsZero() {
		t.Fatalf("by name = %+v, %v", got, err)
	}
	b.Public, b.Spec = false, []byte(`{"title":"B2"}`)
	must(t, s.PutStatusPage(ctx, b))
	all, err := s.StatusPages(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" || all[1].Public || string(all[1].Spec) != `{"title":"B2"}` {
		t.Fatalf("list = %+v, %v", all, err)
	}
	if err := s.PutStatusPage(ctx, &store.StatusPage{Name: "a", Spec: []byte(`{}`)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a name taken twice: %v", err)
	}
	must(t, s.DeleteStatusPage(ctx, a.ID))
	if _, err := s.StatusPageByName(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted page: %v", err)
	}
}
