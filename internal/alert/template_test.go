package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestTemplatedWebhook: a webhook with a method, sealed headers and a
// text/template body sends them; json quotes the server's words safely;
// a failure says nothing of a header's value.
func TestTemplatedWebhook(t *testing.T) {
	f := newQueueFixture(t)
	type got struct {
		method, auth, ctype string
		body                []byte
	}
	ch := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- got{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b}
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	spec, _ := json.Marshal(config.Alert{Name: "tpl", Webhook: &config.Webhook{Method: "PUT",
		Body: `{"title": {{json .Monitor}}, "state": {{json .State}}, "detail": {{json .Detail}}}`}})
	a := &store.Alert{ID: 9, Name: "tpl", Spec: spec, Secrets: map[string]string{}}
	for name, v := range map[string]string{"webhook.url": srv.URL + "/hook", config.HeaderSecret + "Authorization": "Bearer s3cret-token"} {
		a.Secrets[name], _ = f.v.Seal([]byte(v), vault.AlertRecord(9, name))
	}
	n, err := (&Actions{Vault: f.v}).Notifier(a, 12)
	if err != nil {
		t.Fatal(err)
	}
	e := ev
	e.Detail = `a2 NO "quoted" \ and </script>`
	err = n.Notify(context.Background(), e)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a 502: %v", err)
	}
	g := <-ch
	var body map[string]string
	if jerr := json.Unmarshal(g.body, &body); jerr != nil || body["title"] != "IMAP login" || body["detail"] != e.Detail || body["state"] != "down" {
		t.Errorf("body %s (%v)", g.body, jerr)
	}
	if g.method != "PUT" || g.auth != "Bearer s3cret-token" || g.ctype != "application/json" {
		t.Errorf("request: %+v", g)
	}
	w := &Webhook{URL: srv.URL, Body: `{{.Nope}}`}
	if err := w.Notify(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("a template over a field the event has not: %v", err)
	}
	if _, err := (&Webhook{Body: `{{range .Time.Nanosecond}}x{{end}}` + strings.Repeat("y", 70<<10)}).Payload(ev); err == nil {
		t.Error("a body over 64 KiB was made")
	}
}
