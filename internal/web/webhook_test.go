package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/store"
)

// TestWebhookFormHeldToEgress: the alert form refuses a webhook URL on the
// metadata service (outside the fixture's --allow-targets), naming the
// flag beside the field and never showing the URL's path; nothing is
// stored.
func TestWebhookFormHeldToEgress(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	code, body, _ := b.post(t, "/alerts", url.Values{"name": {"ops"}, "kind": {"webhook"},
		"webhook.url": {"http://169.254.169.254/latest/meta-data/s3cret-path"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(errorsIn(body), egress.Flag) || strings.Contains(body, "s3cret") {
		t.Errorf("a webhook on the metadata service: %d %s", code, errorsIn(body))
	}
	if as, _, _ := f.st.Alerts(context.Background(), store.Page{Limit: 10}); len(as) != 0 {
		t.Errorf("stored anyway: %+v", as)
	}
}
