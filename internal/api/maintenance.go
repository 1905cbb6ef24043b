package api

import (
	"net/http"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// maintenanceJSON is maintenance begun by hand on a monitor or a device.
type maintenanceJSON struct {
	Until time.Time `json:"until"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

// maintenanceTarget is the monitor or device of the path.
func maintenanceTarget(r *http.Request, device bool) (catalog.MaintenanceTarget, error) {
	id, err := pathID(r)
	if device {
		return catalog.MaintenanceTarget{Device: id}, err
	}
	return catalog.MaintenanceTarget{Monitor: id}, err
}

// beginMaintenance puts the monitor or device in maintenance {"for":"2h"}
// from now: no alerts for it until it ends by itself or with DELETE.
func (s *Server) beginMaintenance(device bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := maintenanceTarget(r, device)
		if err != nil {
			return err
		}
		var in struct {
			For string `json:"for"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		d, err := catalog.ParseMaintenanceFor(in.For)
		if err != nil {
			return err
		}
		m, err := s.catalog().BeginMaintenance(r.Context(), s.origin(r), t, d, time.Now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, maintenanceOut(m))
		return nil
	}
}

// endMaintenance ends the monitor's or device's maintenance begun by hand.
func (s *Server) endMaintenance(device bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := maintenanceTarget(r, device)
		if err != nil {
			return err
		}
		if err := s.catalog().EndMaintenance(r.Context(), s.origin(r), t, time.Now()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func maintenanceOut(m *store.MaintenanceNow) *maintenanceJSON {
	if m == nil {
		return nil
	}
	return &maintenanceJSON{Until: m.Until, By: m.By, At: m.At}
}
