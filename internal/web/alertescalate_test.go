package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
)

// TestAlertFormEscalationAndHours: the alert form sets an escalation and
// weekly hours, shows them when editing, and says what is wrong with a
// zone or a duration.
func TestAlertFormEscalationAndHours(t *testing.T) {
	f := newFixture(t, true)
	ctx := t.Context()
	b := f.loggedIn(t)
	b.get(t, "/alerts")
	hook := url.Values{"kind": {"webhook"}, "webhook.url": {"https://hooks.example.test/x"}, "webhook.format": {"generic"}}
	add := func(extra url.Values) (int, string) {
		v := url.Values{}
		for k, x := range hook {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		code, body, _ := b.post(t, "/alerts", v, nil)
		return code, body
	}
	if code, body := add(url.Values{"name": {"pager"}}); code != http.StatusSeeOther {
		t.Fatalf("add pager: %d %s", code, errorsIn(body))
	}
	if code, body := add(url.Values{"name": {"chat"}, "escalate.after": {"15m"}, "escalate.to": {"pager"},
		"schedule.days": {"mon, fri"}, "schedule.from": {"08:00"}, "schedule.to": {"18:00"}, "schedule.zone": {"Europe/Berlin"}, "schedule.outside": {"hold"}}); code != http.StatusSeeOther {
		t.Fatalf("add chat: %d %s", code, errorsIn(body))
	}
	a, err := f.st.AlertByName(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	var cfg config.Alert
	json.Unmarshal(a.Spec, &cfg)
	if e, s := cfg.Escalate, cfg.Schedule; e == nil || e.After.D().String() != "15m0s" || strings.Join(e.To, ",") != "pager" ||
		s == nil || s.Zone != "Europe/Berlin" || strings.Join(s.Days, ",") != "mon,fri" || s.From != "08:00" || s.To != "18:00" || s.Outside != "hold" {
		t.Fatalf("stored: %s", a.Spec)
	}
	edit := "/alerts/" + strconv.FormatInt(a.ID, 10) + "/edit"
	_, page := b.get(t, edit)
	for _, want := range []string{`name="escalate.after" value="15m0s"`, `name="escalate.to" value="pager"`, `name="schedule.days" value="mon, fri"`,
		`name="schedule.zone" value="Europe/Berlin"`, `<option value="hold" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}

	if code, body := add(url.Values{"name": {"mail"}, "schedule.from": {"08:00"}, "schedule.to": {"18:00"}, "schedule.zone": {"Berlin"}}); code != http.StatusBadRequest ||
		!strings.Contains(errorsIn(body), `unknown time zone &#34;Berlin&#34;; did you mean &#34;Europe/Berlin&#34;?`) {
		t.Errorf("a bad zone: %d %s", code, errorsIn(body))
	}
	if code, body := add(url.Values{"name": {"mail"}, "escalate.after": {"soon"}, "escalate.to": {"pager"}}); code != http.StatusBadRequest ||
		!strings.Contains(errorsIn(body), "not a duration") {
		t.Errorf("a bad duration: %d %s", code, errorsIn(body))
	}
}
