package domainprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// MTASTSName is the MTA-STS monitor (RFC 8461).
const MTASTSName = "mta-sts"

// The policy's limits: RFC 8461 §3.3 lets senders cap the body (64 KiB
// is what they use), and max_age is at most 31557600 seconds.
const (
	policyMaxBytes = 64 << 10
	maxAgeLimit    = 31557600
	maxAgeShort    = 86400 // below a day, senders refetch all the time and a short outage downgrades them
)

// mtasts is the MTA-STS test. port is the policy host's HTTPS port: 443,
// set otherwise only by this package's tests (nothing of the policy's
// fetch can be pointed elsewhere from a configuration).
type mtasts struct{ port int }

// MTASTSKind is the MTA-STS monitor.
func MTASTSKind() probe.Kind {
	return probe.Kind{
		Name: MTASTSName, Title: "MTA-STS policy", Seed: "MTA-STS monitor",
		Summary:  "Checks the domain's MTA-STS record and policy: fetched over HTTPS, its certificate judged, every MX covered.",
		KnowsTLS: true,
		Fields:   []string{"domain", "resolver"}, Check: mtastsCheck, Probe: mtasts{port: 443}.probe,
	}
}

// mtastsCheck: the TLS settings that apply are ca, cert_warn_days and
// insecure_skip_verify; the policy is always fetched over HTTPS from
// mta-sts.DOMAIN.
func mtastsCheck(c *probe.Config, bad func(field, format string, args ...any)) {
	domainCheck(c, bad)
	if c.TLS != probe.TLSNone && c.TLS != probe.TLSImplicit {
		bad("tls", "does not apply: an mta-sts monitor always fetches its policy over HTTPS; remove tls")
	}
	if c.ServerName != "" {
		bad("servername", "does not apply: the policy host is always mta-sts.DOMAIN; remove servername")
	}
}

// Policy is an MTA-STS policy as read (RFC 8461 §3.2).
type Policy struct {
	Version string   `json:"version"`
	Mode    string   `json:"mode"`
	MX      []string `json:"mx"`
	MaxAge  int      `json:"max_age"`
}

func (m mtasts) probe(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	domain := domainOf(cfg)
	var f findings
	found := false
	if err := step(t, "mta-sts", func() error {
		rec, err := record(ctx, c, "_mta-sts."+domain, "v=STSv1", "MTA-STS", &f)
		if err != nil || rec == "" {
			return err
		}
		t.Detail("mta_sts", rec)
		tg, order, err := tags(rec)
		if err == nil && (order[0] != "v" || tg["v"] != "STSv1") {
			err = errors.New("it must start with v=STSv1")
		}
		if err == nil && !validID(tg["id"]) {
			err = fmt.Errorf("id=%q is not 1 to 32 letters and digits", tg["id"])
		}
		if err != nil {
			f.down(probe.RecordInvalid, "The MTA-STS record of %s is malformed (%v), so senders ignore the policy: correct it (RFC 8461 §3.1).", domain, err)
			return nil
		}
		found = true
		return nil
	}); err != nil {
		return err
	}
	if !found {
		return f.result(t, "mta-sts")
	}
	host := "mta-sts." + domain
	body, err := m.fetch(ctx, cfg, t, c, host, &f)
	if err != nil {
		return err
	}
	if body != nil {
		var mx []string
		if err := step(t, "mx", func() (err error) {
			mx, err = c.MX(ctx, domain)
			if dnsq.NotFound(err) {
				return nil
			}
			return err
		}); err != nil {
			return err
		}
		judgePolicy(domain, host, string(body), mx, t, &f)
	}
	return f.result(t, "mta-sts")
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// fetch gets the policy from https://HOST/.well-known/mta-sts.txt: the
// host resolved with the monitor's resolver, each address held to the
// egress policy, the certificate judged like every test's, no redirect
// followed (RFC 8461 §3.3), the body size-capped; the test's deadline
// bounds all of it. A policy that cannot be used is a finding (nil body).
func (m mtasts) fetch(ctx context.Context, cfg *probe.Config, t *probe.Trace, c *dnsq.Client, host string, f *findings) ([]byte, error) {
	tc, err := cfg.TLSConfigFor(t, host)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	missing := false
	if err := step(t, "dns", func() (err error) {
		addrs, err = c.Addrs(ctx, host)
		if dnsq.NotFound(err) {
			missing = true
			return nil
		}
		return err
	}); err != nil {
		return nil, err
	}
	if missing {
		f.down(probe.RecordMissing, "The policy host %s does not resolve, so senders find no policy: give it an address (and a certificate for that name).", host)
		return nil, nil
	}
	tr := &http.Transport{
		TLSClientConfig:        tc,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
		Proxy:                  nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return wire.DialChecked(ctx, addrs, m.port, cfg.Egress.Guard(host))
		},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u := "https://" + host + "/.well-known/mta-sts.txt"
	var body []byte
	err = t.Step("https", func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the cause, without "Get URL:"
			}
			return err
		}
		defer resp.Body.Close()
		t.SetTLS(resp.TLS, probe.TLSImplicit)
		if resp.StatusCode != http.StatusOK {
			f.down(probe.ServiceError, "%s answered %s instead of the policy, so senders have none (a redirect is not followed): serve the policy there with status 200.", u, resp.Status)
			return nil
		}
		mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "text/plain" {
			f.down(probe.RecordInvalid, "%s is served as %q, not text/plain, so senders reject the policy: serve it with Content-Type: text/plain.", u, resp.Header.Get("Content-Type"))
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, policyMaxBytes+1))
		if err != nil {
			return err
		}
		if len(b) > policyMaxBytes {
			f.down(probe.RecordInvalid, "The policy at %s is larger than %d KiB, more than senders read: keep it to the version, mode, mx and max_age lines.", u, policyMaxBytes>>10)
			return nil
		}
		body = b
		return nil
	})
	return body, err
}

// judgePolicy reads the policy (RFC 8461 §3.2) and judges it: its mode,
// its max_age, and every MX of the domain covered by an mx: pattern.
func judgePolicy(domain, host, body string, mxs []string, t *probe.Trace, f *findings) {
	var p Policy
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			f.down(probe.RecordInvalid, "The MTA-STS policy of %s has the line %q, which is not key: value: correct it (RFC 8461 §3.2).", domain, wire.Sanitize(line))
			return
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k != "mx" && seen[k] {
			f.down(probe.RecordInvalid, "The MTA-STS policy of %s gives %s twice: keep one.", domain, k)
			return
		}
		seen[k] = true
		switch k {
		case "version":
			p.Version = v
		case "mode":
			p.Mode = v
		case "mx":
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(v, ".")))
		case "max_age":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxAgeLimit || len(v) > 10 {
				f.down(probe.RecordInvalid, "The MTA-STS policy of %s has max_age %q, not a number of seconds up to %d: correct it.", domain, wire.Sanitize(v), maxAgeLimit)
				return
			}
			p.MaxAge = n
		}
	}
	t.Detail("policy", p)
	switch {
	case p.Version != "STSv1":
		f.down(probe.RecordInvalid, "The MTA-STS policy of %s has version %q, not STSv1, so senders ignore it: start it with version: STSv1.", domain, wire.Sanitize(p.Version))
		return
	case !seen["max_age"]:
		f.down(probe.RecordInvalid, "The MTA-STS policy of %s has no max_age, so senders ignore it: add max_age: 604800 (a week) or more.", domain)
		return
	}
	switch p.Mode {
	case "enforce", "testing":
		if len(p.MX) == 0 {
			f.down(probe.RecordInvalid, "The MTA-STS policy of %s names no mx, so senders can deliver nowhere under it: add an mx: line for each MX.", domain)
			return
		}
	case "none":
		f.warn(probe.PolicyMismatch, "The MTA-STS policy of %s has mode none: senders drop the policy, so mail is not protected against downgrades; publish mode: enforce (or testing first) unless you are withdrawing it.", domain)
		return
	default:
		f.down(probe.RecordInvalid, "The MTA-STS policy of %s has mode %q, not enforce, testing or none, so senders ignore it: correct it.", domain, wire.Sanitize(p.Mode))
		return
	}
	var uncovered []string
	for _, mx := range mxs {
		if !covered(strings.ToLower(mx), p.MX) {
			uncovered = append(uncovered, mx)
		}
	}
	if len(uncovered) > 0 {
		msg := fmt.Sprintf("The MX %s of %s %s not covered by any mx: pattern of its MTA-STS policy (%s)", strings.Join(uncovered, ", "), domain, isAre(len(uncovered)), strings.Join(p.MX, ", "))
		if p.Mode == "enforce" {
			f.down(probe.PolicyMismatch, "%s, so senders that enforce it refuse to deliver there: add an mx: line for it (and change the record's id).", msg)
		} else {
			f.warn(probe.PolicyMismatch, "%s; senders in testing mode deliver anyway and report it: add an mx: line for it before moving to enforce.", msg)
		}
	}
	if p.Mode == "testing" {
		f.warn(probe.PolicyMismatch, "The MTA-STS policy of %s is in mode testing: senders report TLS failures but deliver anyway; move to mode: enforce once the TLS reports are clean.", domain)
	}
	if p.MaxAge < maxAgeShort {
		f.warn(probe.PolicyMismatch, "The MTA-STS policy of %s has max_age %d seconds, under a day, so a short outage of %s leaves senders without it: raise it to 604800 (a week) or more.", domain, p.MaxAge, host)
	}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// covered reports whether an MX host matches one of the policy's mx
// patterns: the name itself, or "*.suffix" for one label more than the
// suffix (RFC 8461 §4.1).
func covered(mx string, patterns []string) bool {
	mx = strings.TrimSuffix(mx, ".")
	for _, p := range patterns {
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			label, rest, found := strings.Cut(mx, ".")
			if found && label != "" && rest == suffix {
				return true
			}
		} else if mx == p {
			return true
		}
	}
	return false
}
