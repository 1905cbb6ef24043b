package cli

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
)

// dbAlertEnv holds the webhook of --db-alert-webhook, for those who would
// not show its URL (a secret) in the process list.
const dbAlertEnv = "MAILMON_DB_ALERT_WEBHOOK"

// dbAlertOptions are serve's flags for the local alert of a database
// outage: actions set on the host, which need no database.
type dbAlertOptions struct {
	webhook, format, command string
	after, every             time.Duration
}

func dbAlertFlags(fs *flag.FlagSet) *dbAlertOptions {
	o := &dbAlertOptions{}
	fs.StringVar(&o.webhook, "db-alert-webhook", "", "a webhook told when this node cannot reach its database (for --db-alert-after), and when it can again: it needs no database (default: $"+dbAlertEnv+")")
	fs.StringVar(&o.format, "db-alert-format", "generic", "the format of --db-alert-webhook: generic, slack or teams")
	fs.StringVar(&o.command, "db-alert-command", "", "a program (absolute path) run when this node cannot reach its database, and when it can again, with the event in its environment as for an alert's command (MAILMON_EVENT=alert|recovery, MAILMON_MONITOR=database, …)")
	fs.DurationVar(&o.after, "db-alert-after", 15*time.Second, "how long the database is unreachable before the local alert")
	fs.DurationVar(&o.every, "db-alert-every", 15*time.Minute, "while the database stays unreachable, the local alert is repeated at most this often")
	return o
}

// notifiers are the actions the flags set (none when none is), or what is
// wrong with them, naming the flag.
func (o *dbAlertOptions) notifiers(getenv func(string) string) ([]alert.Notifier, error) {
	if o.webhook == "" {
		o.webhook = getenv(dbAlertEnv)
	}
	var out []alert.Notifier
	if o.webhook != "" {
		if err := config.CheckWebhookURL(o.webhook); err != nil {
			return nil, fmt.Errorf("--db-alert-webhook (or $%s) %v", dbAlertEnv, err)
		}
		if !slices.Contains([]string{alert.FormatGeneric, alert.FormatSlack, alert.FormatTeams}, o.format) {
			return nil, fmt.Errorf("--db-alert-format: %q is not generic, slack or teams", o.format)
		}
		out = append(out, &alert.Webhook{URL: o.webhook, Format: o.format})
	}
	if o.command != "" {
		if !filepath.IsAbs(o.command) {
			return nil, fmt.Errorf("--db-alert-command: %q is not an absolute path (like /usr/local/bin/page-oncall)", o.command)
		}
		out = append(out, &alert.Command{Argv: []string{o.command}})
	}
	if o.every <= 0 {
		return nil, fmt.Errorf("--db-alert-every: %v is not a positive duration (like 15m)", o.every)
	}
	if o.after <= 0 {
		return nil, fmt.Errorf("--db-alert-after: %v is not a positive duration (like 15s)", o.after)
	}
	return out, nil
}
