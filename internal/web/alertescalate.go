package web

import (
	"strings"

	"github.com/mailmon/mailmon/internal/config"
)

// The alert form's escalation and weekly hours (templates/alerts.html,
// one fieldset): the same settings as the YAML's escalate and schedule,
// empty for none.

var escalationFields = []string{"escalate.after", "escalate.to", "schedule.zone", "schedule.days", "schedule.from", "schedule.to", "schedule.outside"}

// escalationValues shows an alert's escalation and hours in the form.
func escalationValues(cfg *config.Alert, v map[string]string) {
	if e := cfg.Escalate; e != nil {
		v["escalate.after"], v["escalate.to"] = e.After.D().String(), strings.Join(e.To, ", ")
	}
	if s := cfg.Schedule; s != nil {
		v["schedule.zone"], v["schedule.days"], v["schedule.from"], v["schedule.to"], v["schedule.outside"] =
			s.Zone, strings.Join(s.Days, ", "), s.From, s.To, s.Outside
	}
}

// escalationFromForm reads them back into a (nil when left empty); a
// duration that does not parse is in errs.
func escalationFromForm(v, errs map[string]string, a *config.Alert) {
	if v["escalate.after"] != "" || v["escalate.to"] != "" {
		a.Escalate = &config.Escalation{To: commaList(v["escalate.to"])}
		if err := a.Escalate.After.UnmarshalText([]byte(v["escalate.after"])); err != nil {
			errs["escalate.after"] = err.Error()
		}
	}
	if v["schedule.zone"] != "" || v["schedule.days"] != "" || v["schedule.from"] != "" || v["schedule.to"] != "" {
		a.Schedule = &config.Schedule{Zone: v["schedule.zone"], Days: commaList(v["schedule.days"]),
			From: v["schedule.from"], To: v["schedule.to"], Outside: v["schedule.outside"]}
	}
}

// commaList is a comma-separated list, blanks dropped.
func commaList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
