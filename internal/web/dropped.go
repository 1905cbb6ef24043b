package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// A save that points a record elsewhere drops the stored secrets the new
// target would receive (internal/secretbind). The page the save redirects
// to says so: the redirect carries only names of secrets and ids, and a
// page shows only the fixed text it makes of those, so that a link cannot
// put words of its own on a page.

// secretLabels are the secrets a notice may name, as the forms name them.
var secretLabels = map[string]string{
	"password":            "password",
	"smtp.password":       "SMTP leg password",
	"oauth.client_secret": "OAuth client secret",
	"oauth.refresh_token": "OAuth refresh token",
	"dqs_key":             "Spamhaus DQS key",
	"relay.password":      "relay password",
	"webhook.url":         "webhook URL",
}

func droppedQuery(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "?dropped=" + url.QueryEscape(strings.Join(names, ","))
}

// labels turns a dropped= list into the known secrets' labels.
func labels(q url.Values) []string {
	var out []string
	for _, n := range strings.Split(q.Get("dropped"), ",") {
		if l, ok := secretLabels[n]; ok && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func monitorNotice(q url.Values) string {
	ls := labels(q)
	if len(ls) == 0 {
		return ""
	}
	return "Saved. The stored " + strings.Join(ls, " and ") + " " + were(ls) + " removed: the change points the monitor at another target, " +
		"which must not receive a secret meant for the old one. Enter it again (Edit) if the new target should have it."
}

func deviceDroppedQuery(drops []catalog.Drop) string {
	if len(drops) == 0 {
		return ""
	}
	ids := make([]string, len(drops))
	for i, d := range drops {
		ids[i] = strconv.FormatInt(d.ID, 10)
	}
	return "?dropped=" + strings.Join(ids, ",")
}

// deviceNotice names the device's monitors listed in dropped=.
func (s *Server) deviceNotice(ctx context.Context, q url.Values, device int64) (string, error) {
	if q.Get("dropped") == "" {
		return "", nil
	}
	ms, _, err := s.Store.Monitors(ctx, store.MonitorFilter{DeviceID: device, Page: store.Page{Limit: 100000}})
	if err != nil {
		return "", err
	}
	ids := strings.Split(q.Get("dropped"), ",")
	var names []string
	for _, m := range ms {
		if slices.Contains(ids, strconv.FormatInt(m.ID, 10)) {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	return "Saved. The new address would have received the stored passwords of " + strings.Join(names, ", ") +
		": they were removed. Enter them again in each monitor's form if the new address should have them.", nil
}

func alertDroppedQuery(id int64, names []string) string {
	if len(names) == 0 || id == 0 {
		return ""
	}
	return droppedQuery(names) + "&alert=" + strconv.FormatInt(id, 10)
}

// alertName is the name of the alert in alert=, if there is one.
func (s *Server) alertName(r *http.Request) string {
	id, err := strconv.ParseInt(r.URL.Query().Get("alert"), 10, 64)
	if err != nil {
		return ""
	}
	a, err := s.Store.Alert(r.Context(), id)
	if err != nil {
		return ""
	}
	return a.Name
}

func alertNotice(q url.Values, name string) string {
	ls := labels(q)
	if len(ls) == 0 || name == "" {
		return ""
	}
	return "Saved " + name + ". Its stored " + strings.Join(ls, " and ") + " " + were(ls) + " removed: the change sends it elsewhere. " +
		"Enter it again if the new target should have it."
}

func were(ls []string) string {
	if len(ls) > 1 {
		return "were"
	}
	return "was"
}
