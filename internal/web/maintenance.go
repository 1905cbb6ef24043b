package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/store"
)

// maintView is what a monitor's or device's page shows of maintenance
// begun by hand (template "maintenance" in alerting.html): the form that
// begins it, or until when it lasts and the button that ends it.
type maintView struct {
	Path string                // the page's path: /monitors/1, /devices/2
	Now  *store.MaintenanceNow // nil: none
	// Own says whether Now is the page's own (it can end it here), not
	// its device's.
	Own bool
}

// maintenanceFor is the choice of the form: how long.
var maintenanceFor = []struct{ Value, Label string }{
	{"30m", "30 minutes"}, {"1h", "1 hour"}, {"2h", "2 hours"}, {"4h", "4 hours"}, {"8h", "8 hours"}, {"24h", "1 day"},
}

func (s *Server) maintView(r *http.Request, t catalog.MaintenanceTarget, device int64) maintView {
	v := maintView{Path: fmt.Sprintf("/monitors/%d", t.Monitor)}
	if t.Device != 0 {
		v.Path = fmt.Sprintf("/devices/%d", t.Device)
	}
	ms, _ := s.Store.MaintenancesNow(r.Context(), s.Now()) // none shown if the store cannot say
	v.Now = schedule.Covering(ms, t.Monitor, device)
	v.Own = v.Now != nil && v.Now.MonitorID == t.Monitor && v.Now.DeviceID == t.Device
	return v
}

// maintenanceTarget is the monitor or device of the path, which must exist.
func (s *Server) maintenanceTarget(r *http.Request, device bool) (catalog.MaintenanceTarget, string, error) {
	if device {
		id, err := pathID(r)
		if err != nil {
			return catalog.MaintenanceTarget{}, "", err
		}
		return catalog.MaintenanceTarget{Device: id}, fmt.Sprintf("/devices/%d", id), nil
	}
	m, _, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return catalog.MaintenanceTarget{}, "", err
	}
	return catalog.MaintenanceTarget{Monitor: m.ID}, fmt.Sprintf("/monitors/%d", m.ID), nil
}

// beginMaintenance puts the page's monitor or device in maintenance for
// the time chosen, then shows the page again.
func (s *Server) beginMaintenance(device bool) func(http.ResponseWriter, *http.Request, *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		t, back, err := s.maintenanceTarget(r, device)
		if err != nil {
			return err
		}
		r.ParseForm()
		d, err := catalog.ParseMaintenanceFor(r.PostForm.Get("for"))
		if err == nil {
			_, err = s.Catalog.BeginMaintenance(r.Context(), c.origin, t, d, s.Now())
		}
		var fe catalog.FieldErrors
		if errors.As(err, &fe) {
			return httpError{http.StatusBadRequest, "the duration " + fe[0].Msg}
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
}

// endMaintenance ends the page's monitor's or device's maintenance now.
func (s *Server) endMaintenance(device bool) func(http.ResponseWriter, *http.Request, *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		t, back, err := s.maintenanceTarget(r, device)
		if err != nil {
			return err
		}
		if err := s.Catalog.EndMaintenance(r.Context(), c.origin, t, s.Now()); err != nil {
			return err
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
}

// maintUntil is the board's word for a row's maintenance begun by hand.
func maintUntil(m *store.MaintenanceNow) string {
	if m == nil {
		return ""
	}
	return when(m.Until)
}
