package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

type deviceForm struct {
	Name, Address string
	// Maintenance is the windows' field (windows.go); nil where the form
	// has none (the new device's), which keeps the stored ones.
	Maintenance *string
	Errors      map[string]string
}

// readDeviceForm reads a device's form; a windows' line it cannot read
// is a field error.
func readDeviceForm(r *http.Request) (deviceForm, *[]config.Window) {
	f := deviceForm{Name: strings.TrimSpace(r.PostFormValue("name")), Address: strings.TrimSpace(r.PostFormValue("address"))}
	if _, ok := r.PostForm["maintenance"]; !ok {
		return f, nil
	}
	text := r.PostFormValue("maintenance")
	f.Maintenance = &text
	ws, bad := parseWindows(text)
	if bad != "" {
		f.Errors = map[string]string{"maintenance": bad}
	}
	if ws == nil {
		ws = []config.Window{}
	}
	return f, &ws
}

type devicesData struct {
	Devices            []deviceRow
	Total, Page, Pages int
	Prev, Next         string
	Form               deviceForm
}

type deviceRow struct {
	store.Device
	Monitors int
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderDevices(w, r, c, http.StatusOK, deviceForm{})
}

func (s *Server) renderDevices(w http.ResponseWriter, r *http.Request, c *call, status int, f deviceForm) error {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	p = max(p, 1)
	ds, total, err := s.Store.Devices(r.Context(), store.Page{Limit: PageSize, Offset: (p - 1) * PageSize})
	if err != nil {
		return err
	}
	d := devicesData{Total: total, Page: p, Pages: max((total+PageSize-1)/PageSize, 1), Form: f}
	for _, dev := range ds {
		_, n, err := s.Store.Monitors(r.Context(), store.MonitorFilter{DeviceID: dev.ID, Page: store.Page{Limit: 1}})
		if err != nil {
			return err
		}
		d.Devices = append(d.Devices, deviceRow{dev, n})
	}
	if p > 1 {
		d.Prev = "/devices?page=" + strconv.Itoa(p-1)
	}
	if p < d.Pages {
		d.Next = "/devices?page=" + strconv.Itoa(p+1)
	}
	s.render(w, c, status, "devices", "Devices", d)
	return nil
}

// fieldMap turns field errors into a map by field; errors of fields the
// form does not show go under "".
func fieldMap(errs []config.FieldError, known func(string) string) map[string]string {
	out := map[string]string{}
	for _, e := range errs {
		k := known(e.Path)
		if out[k] != "" {
			out[k] += "; "
		}
		if k == "" {
			out[k] += e.Path + ": "
		}
		out[k] += e.Msg
	}
	return out
}

func deviceField(p string) string {
	switch {
	case p == "name" || p == "address":
		return p
	case strings.HasPrefix(p, "maintenance"):
		return "maintenance"
	}
	return ""
}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request, c *call) error {
	f, ws := readDeviceForm(r)
	if f.Errors != nil {
		return s.renderDevices(w, r, c, http.StatusBadRequest, f)
	}
	d, _, err := s.saveDevice(r.Context(), c.origin, 0, f, ws)
	if fe, ok := catalog.Fields(err); ok {
		f.Errors = fieldMap(fe, deviceField)
		return s.renderDevices(w, r, c, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/devices/"+strconv.FormatInt(d.ID, 10), http.StatusSeeOther)
	return nil
}

type deviceData struct {
	Device store.Device
	Form   deviceForm
	Board  *boardData
	Maint  maintView // maintenance begun by hand (maintenance.go)
	// Windows are the device's scheduled maintenance windows, one line
	// each.
	Windows []string
}

func (s *Server) device(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	dev, err := s.Store.Device(r.Context(), id)
	if err != nil {
		return err
	}
	if c.notice, err = s.deviceNotice(r.Context(), r.URL.Query(), dev.ID); err != nil {
		return err
	}
	text := windowsText(config.StoredWindows(dev.Maintenance))
	return s.renderDevice(w, r, c, http.StatusOK, dev, deviceForm{Name: dev.Name, Address: dev.Address, Maintenance: &text})
}

func (s *Server) renderDevice(w http.ResponseWriter, r *http.Request, c *call, status int, dev *store.Device, f deviceForm) error {
	b, err := s.monitorRows(r.Context(), r.URL.Query(), dev.ID, "/devices/"+strconv.FormatInt(dev.ID, 10))
	if err != nil {
		return err
	}
	var windows []string
	for _, w := range config.StoredWindows(dev.Maintenance) {
		windows = append(windows, w.Text())
	}
	s.render(w, c, status, "device", dev.Name, deviceData{Device: *dev, Form: f, Board: b, Windows: windows,
		Maint: s.maintView(r, catalog.MaintenanceTarget{Device: dev.ID}, dev.ID)})
	return nil
}

func (s *Server) updateDevice(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	dev, err := s.Store.Device(r.Context(), id)
	if err != nil {
		return err
	}
	f, ws := readDeviceForm(r)
	if f.Errors != nil {
		return s.renderDevice(w, r, c, http.StatusBadRequest, dev, f)
	}
	_, drops, err := s.saveDevice(r.Context(), c.origin, id, f, ws)
	if fe, ok := catalog.Fields(err); ok {
		f.Errors = fieldMap(fe, deviceField)
		return s.renderDevice(w, r, c, http.StatusBadRequest, dev, f)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/devices/"+strconv.FormatInt(id, 10)+deviceDroppedQuery(drops), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.Catalog.DeleteDevice(r.Context(), c.origin, id)
	if err != nil {
		return err
	}
	s.tell(r.Context(), res) // the device is gone: its monitors stop however their reload fares
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
	return nil
}
