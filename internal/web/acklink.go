package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// The signed one-click link of an alert (alert.AckLinks): GET shows what
// it would acknowledge and a button, and acknowledges nothing (mail
// scanners follow links); the button POSTs the token back to the same
// path. Neither needs a session: the signature is the permission, for
// that outage of that monitor alone. Failed tokens count against the
// client's address as failed logins do.

// ackLinkLimit is how many bad tokens one address may try per window.
const ackLinkLimit = addrLimit

// ackLinkData is what the page shows.
type ackLinkData struct {
	Token, Monitor, Device string
	Since                  time.Time
	Done                   *store.Ack
	Error                  string
}

// ackLinkPage shows the link's outage and the button.
func (s *Server) ackLinkPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d, _, status := s.ackLinkCheck(r)
	s.render(w, c, status, "acklink", "Acknowledge", d)
	return nil
}

// ackLink acknowledges the link's outage.
func (s *Server) ackLink(w http.ResponseWriter, r *http.Request, c *call) error {
	d, g, status := s.ackLinkCheck(r)
	if d.Error != "" {
		s.render(w, c, status, "acklink", "Acknowledge", d)
		return nil
	}
	who := fmt.Sprintf("from alert %d", g.Alert)
	if a, err := s.Store.Alert(r.Context(), g.Alert); err == nil {
		who = "from alert " + a.Name
	}
	o := catalog.Network.As(catalog.SignedLink(who, g.Monitor, g.Since, s.Proxies.Client(r).Addr))
	ack, err := s.Catalog.Acknowledge(r.Context(), o, g.Monitor, r.PostFormValue("comment"), s.Now())
	var fe catalog.FieldErrors
	switch {
	case errors.Is(err, catalog.ErrOutageOver), errors.Is(err, catalog.ErrNothingToAck):
		d.Error, status = catalog.ErrOutageOver.Error(), http.StatusConflict
	case errors.As(err, &fe):
		d.Error, status = "The comment "+fe[0].Msg+".", http.StatusBadRequest
	case err != nil:
		return err
	default:
		d.Done = ack
	}
	s.render(w, c, status, "acklink", "Acknowledge", d)
	return nil
}

// ackLinkCheck reads the request's token: the page's data (Error set when
// the link acknowledges nothing), its grant, and the status to answer.
func (s *Server) ackLinkCheck(r *http.Request) (ackLinkData, alert.AckGrant, int) {
	d := ackLinkData{Token: r.PathValue("token")}
	now := s.Now()
	key := "acklink:" + addrKey(s.Proxies.Client(r).Addr)
	if s.AckLinks == nil {
		d.Error = "Acknowledgement links are off on this mailmon (it runs without --external-url)."
		return d, alert.AckGrant{}, http.StatusNotFound
	}
	if wait := s.limiter.blocked([]string{key}, ackLinkLimit, now); wait > 0 {
		d.Error = fmt.Sprintf("Too many wrong links from your address: try again in %d seconds.", int(wait.Seconds())+1)
		return d, alert.AckGrant{}, http.StatusTooManyRequests
	}
	g, err := s.AckLinks.Check(d.Token, now)
	if errors.Is(err, alert.ErrAckLinkInvalid) {
		s.limiter.fail(now, map[string]int{key: ackLinkLimit})
	}
	if err != nil {
		d.Error = err.Error()
		return d, g, http.StatusForbidden
	}
	m, err := s.Store.Monitor(r.Context(), g.Monitor)
	if err != nil {
		d.Error = "The monitor of this link no longer exists."
		return d, g, http.StatusNotFound
	}
	d.Monitor, d.Since = m.Name, g.Since
	if dev, err := s.Store.Device(r.Context(), m.DeviceID); err == nil {
		d.Device = dev.Name
	}
	st, err := s.Store.Status(r.Context(), g.Monitor)
	if err != nil || !st.Status.State.Failing() || !st.Status.OutageStart().UTC().Truncate(time.Millisecond).Equal(g.Since) {
		d.Error = catalog.ErrOutageOver.Error()
		return d, g, http.StatusConflict
	}
	if a := s.Catalog.Ack(r.Context(), g.Monitor, st); a != nil {
		d.Done = a
	}
	return d, g, http.StatusOK
}
