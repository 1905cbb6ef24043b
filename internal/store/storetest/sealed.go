package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// sealed: every sealed value of every table is listed and replaced in one
// transaction; meta values are set once, compare-and-set.
func sealed(t *testing.T, s store.Store) {
	if v, err := s.Meta(ctx, store.MetaKeyCheck); err != nil || v != "" {
		t.Fatalf("Meta of an empty store = %q, %v", v, err)
	}
	if ok, err := s.SetMeta(ctx, store.MetaKeyCheck, "", "v1:check"); err != nil || !ok {
		t.Fatalf("SetMeta: %v %v", ok, err)
	}
	if ok, err := s.SetMeta(ctx, store.MetaKeyCheck, "", "v1:other"); err != nil || ok {
		t.Errorf("a second first SetMeta wrote: %v %v", ok, err)
	}
	if ok, err := s.SetMeta(ctx, store.MetaKeyCheck, "v1:wrong", "v1:other"); err != nil || ok {
		t.Errorf("SetMeta from a stale value wrote: %v %v", ok, err)
	}
	if v, _ := s.Meta(ctx, store.MetaKeyCheck); v != "v1:check" {
		t.Errorf("Meta = %q", v)
	}

	d := &store.Device{Name: "d", Address: "h"}
	must(t, s.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "imap", Enabled: true, Spec: json.RawMessage(`{}`),
		Secrets: map[string]string{"password": "v1:m-pw", "smtp.password": "v1:m-smtp"}}
	must(t, s.PutMonitor(ctx, m))
	bare := &store.Monitor{DeviceID: d.ID, Name: "bare", Type: "tcp", Enabled: true, Spec: json.RawMessage(`{}`)}
	must(t, s.PutMonitor(ctx, bare))
	a := &store.Alert{Name: "a", Kind: "webhook", Spec: json.RawMessage(`{}`), Secrets: map[string]string{"webhook.url": "v1:a-url"}}
	must(t, s.PutAlert(ctx, a))
	c := &store.Credential{Name: "c", Spec: json.RawMessage(`{}`), Secrets: map[string]string{"key": "v1:c-key"}}
	must(t, s.PutCredential(ctx, c))
	updated := m.Updated

	want := []store.Sealed{
		{Kind: "monitor", ID: m.ID, Name: "password", Value: "v1:m-pw"},
		{Kind: "monitor", ID: m.ID, Name: "smtp.password", Value: "v1:m-smtp"},
		{Kind: "alert", ID: a.ID, Name: "webhook.url", Value: "v1:a-url"},
		{Kind: "credential", ID: c.ID, Name: "key", Value: "v1:c-key"},
		{Kind: "key", Name: "check", Value: "v1:check"},
	}
	got, err := s.Sealed(ctx)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Sealed = %+v, %v\nwant %+v", got, err, want)
	}

	// A failure half way changes nothing.
	n := 0
	boom := errors.New("boom")
	err = s.Reseal(ctx, func(x store.Sealed) (string, error) {
		if n++; n == 3 {
			return "", boom
		}
		return "v2:" + x.Value, nil
	}, map[string]string{"note": "x"})
	if !errors.Is(err, boom) {
		t.Errorf("Reseal's error: %v", err)
	}
	if got, _ := s.Sealed(ctx); !slices.Equal(got, want) {
		t.Errorf("a failed Reseal changed %+v", got)
	}
	if v, _ := s.Meta(ctx, "note"); v != "" {
		t.Errorf("a failed Reseal set meta %q", v)
	}

	must(t, s.Reseal(ctx, func(x store.Sealed) (string, error) { return "v2:" + strings.TrimPrefix(x.Value, "v1:"), nil },
		map[string]string{"note": "rotated"}))
	got, _ = s.Sealed(ctx)
	for i := range want {
		want[i].Value = "v2:" + strings.TrimPrefix(want[i].Value, "v1:")
	}
	if !slices.Equal(got, want) {
		t.Errorf("after Reseal: %+v\nwant %+v", got, want)
	}
	if v, _ := s.Meta(ctx, "note"); v != "rotated" {
		t.Errorf("Reseal's meta: %q", v)
	}
	mm, err := s.Monitor(ctx, m.ID)
	if err != nil || mm.Secrets["password"] != "v2:m-pw" || !mm.Updated.Equal(updated) {
		t.Errorf("the monitor after Reseal: %+v, %v (its settings did not change: updated stays %v)", mm, err, updated)
	}
}
