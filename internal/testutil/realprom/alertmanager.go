package realprom

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// AlertmanagerBinary finds Debian's prometheus-alertmanager
// ($ALERTMANAGER, else on $PATH, else /usr/bin).
func AlertmanagerBinary() (string, error) {
	return find("ALERTMANAGER", "prometheus-alertmanager")
}

// StartAlertmanager runs an Alertmanager alone (no cluster: no gossip
// port) on a free loopback port until the test ends; its one receiver
// sends nowhere.
func StartAlertmanager(t testing.TB) *Server {
	t.Helper()
	const cfg = "route:\n  receiver: nowhere\n  group_wait: 1s\nreceivers:\n  - name: nowhere\n"
	return start(t, AlertmanagerBinary, "alertmanager.yml", cfg, func(cfgFile, dir, addr, port string) []string {
		return []string{"--config.file=" + cfgFile, "--web.listen-address=" + addr,
			"--storage.path=" + filepath.Join(dir, "data-"+port), "--cluster.listen-address="}
	})
}

// AMAlert is an alert as Alertmanager's API v2 lists it.
type AMAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"` // active, suppressed, unprocessed
	} `json:"status"`
}

// Alerts lists the alerts Alertmanager holds that match the filters
// (label matchers like `monitor="SMTP"`). API v2 lists unresolved alerts
// only: a resolved alert is one no longer listed.
func (s *Server) Alerts(ctx context.Context, filters ...string) ([]AMAlert, error) {
	q := url.Values{"filter": filters}
	var out []AMAlert
	err := s.get(ctx, "/api/v2/alerts?"+q.Encode(), &out)
	return out, err
}
