// Package secretbind binds stored secrets to where they are sent. A
// password sealed for one server must not follow a change of the record to
// another: whoever may edit a monitor, an alert or a credential but not
// read its secrets could otherwise point it at a listener of their own and
// receive the password. So a change of what a secret is sent to (host,
// port, protocol, TLS, mechanism, SSH host key) drops it, unless the same
// request sends it again.
//
// Each function here is the whole rule for one kind of record: given the
// old and the new record, which stored secrets must drop.
package secretbind

import (
	"bytes"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/recovery"
)

// Monitor returns the secrets of a monitor ("password", "smtp.password", …)
// that must drop when it changes from old on a device at oldAddr to new on
// a device at newAddr. A device's address change is a monitor change with
// the same settings and another address.
func Monitor(oldAddr string, old config.Monitor, newAddr string, new config.Monitor) []string {
	var drop []string
	oc, nc := old.ProbeConfig(oldAddr), new.ProbeConfig(newAddr)
	if moved(target(&oc), target(&nc)) {
		drop = append(drop, "password")
	}
	switch {
	case oc.SMTP == nil:
	case nc.SMTP == nil || !kinds.RoundTrip(new.Type):
		drop = append(drop, "smtp.password") // no leg any more: nothing to send it to
	case moved(target(oc.SMTP), target(nc.SMTP)):
		drop = append(drop, "smtp.password")
	}
	// A DQS key travels in the query names to the resolver: another
	// resolver, or no dnsbl any more, drops it.
	if old.Type == "dnsbl" && (new.Type != "dnsbl" || old.Resolver != new.Resolver) {
		drop = append(drop, config.SecretDQSKey)
	}
	drop = append(drop, oauthDrops(old, &oc, new, &nc)...)
	return append(drop, legOAuthDrops(old, &oc, new, &nc)...)
}

// legOAuthDrops: the SMTP leg's own oauth block's secrets (smtp.oauth)
// drop as the monitor's do, for the leg: another token URL, client id or
// scope, or the submission server moved.
func legOAuthDrops(old config.Monitor, oc *probe.Config, new config.Monitor, nc *probe.Config) []string {
	both := []string{config.SecretSMTPOAuthClient, config.SecretSMTPOAuthRefresh, config.SecretSMTPOAuthSAKey}
	switch {
	case old.SMTP == nil || old.SMTP.OAuth == nil:
		return nil
	case new.SMTP == nil || new.SMTP.OAuth == nil || nc.SMTP == nil || !kinds.RoundTrip(new.Type):
		return both
	}
	ou, os, _ := old.SMTP.OAuth.Endpoint(false, false)
	nu, ns, _ := new.SMTP.OAuth.Endpoint(false, false)
	if ou != nu || os != ns || old.SMTP.OAuth.ClientID != new.SMTP.OAuth.ClientID || moved(target(oc.SMTP), target(nc.SMTP)) {
		return both
	}
	if oc.SMTP.OAuthToken.Flow != nil && nc.SMTP.OAuthToken.Flow != nil && oc.SMTP.OAuthToken.Flow.Subject != nc.SMTP.OAuthToken.Flow.Subject {
		return []string{config.SecretSMTPOAuthSAKey}
	}
	return nil
}

// oauthDrops: the client secret and the refresh token are sent to the
// token endpoint, and the tokens they fetch to the mail servers (and the
// SMTP leg's, when it logs in with them): another token URL, client id or
// scope, or any of those servers moved, drops both.
func oauthDrops(old config.Monitor, oc *probe.Config, new config.Monitor, nc *probe.Config) []string {
	both := []string{config.SecretOAuthClient, config.SecretOAuthRefresh, config.SecretOAuthSAKey}
	switch {
	case old.OAuth == nil:
		return nil
	case new.OAuth == nil:
		return both
	}
	ou, os, _ := old.OAuth.Endpoint(false, strings.HasPrefix(old.Type, "graph"))
	nu, ns, _ := new.OAuth.Endpoint(false, strings.HasPrefix(new.Type, "graph"))
	if ou != nu || os != ns || old.OAuth.ClientID != new.OAuth.ClientID || moved(target(oc), target(nc)) {
		return both
	}
	if oc.OAuthToken.Flow != nil && nc.OAuthToken.Flow != nil && oc.OAuthToken.Flow.Subject != nc.OAuthToken.Flow.Subject {
		// a service account's key acts for the subject: another mailbox
		return []string{config.SecretOAuthSAKey}
	}
	legToken := func(c *probe.Config) bool { return c.SMTP != nil && c.SMTP.OAuthToken.Flow != nil }
	if legToken(nc) && (!legToken(oc) || moved(target(oc.SMTP), target(nc.SMTP))) {
		return both
	}
	return nil
}

// Alert returns the secrets of an alert ("relay.password", "webhook.url")
// that must drop when it changes from old to new. A webhook's URL is the
// secret itself: it drops only when the alert stops being a webhook.
func Alert(old, new config.Alert) []string {
	var drop []string
	switch {
	case old.Email == nil:
	case new.Email == nil:
		drop = append(drop, "relay.password")
	default:
		oc, nc := relay(old.Email.Relay), relay(new.Email.Relay)
		if moved(target(&oc), target(&nc)) {
			drop = append(drop, "relay.password")
		}
	}
	if old.Webhook != nil && new.Webhook == nil {
		drop = append(drop, "webhook.url")
	}
	if old.IsChannel() && !new.IsChannel() {
		drop = append(drop, "url")
	}
	// A service's key goes where its URL leads: another URL drops it.
	if old.PagerDuty != nil && (new.PagerDuty == nil || old.Target() != new.Target()) {
		drop = append(drop, "pagerduty.routing_key")
	}
	if old.Opsgenie != nil && (new.Opsgenie == nil || old.Target() != new.Target()) {
		drop = append(drop, "opsgenie.api_key")
	}
	return drop
}

// Credential returns the secrets of an SSH credential ("password", "key")
// that must drop when it changes from old to new: its known_host is the
// server it may log in to (the host key is checked before the secret is
// sent), so another host key drops them.
func Credential(old, new config.Credential) []string {
	if sameHostKey(old.KnownHost, new.KnownHost) {
		return nil
	}
	return []string{"key", "password"}
}

// Dropped returns the stored secrets of names that drop, less those the
// request sends again (given): what the caller removes and reports.
func Dropped(stored map[string]string, drop []string, given func(name string) bool) []string {
	var out []string
	for _, name := range drop {
		if _, ok := stored[name]; ok && !given(name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// dest is what decides where a secret goes and how it is protected on
// the way.
type dest struct {
	host, typ, tls, auth string
	port                 int
	ca, serverName       string
	insecure, plaintext  bool
}

func target(c *probe.Config) dest {
	tls := c.TLS
	if tls == "" {
		tls = probe.TLSNone
	}
	port := c.Port
	if port == 0 {
		port = kinds.DefaultPort(c.Type, tls)
	}
	auth := strings.ToUpper(c.Auth)
	if auth == "" {
		auth = "AUTO"
	}
	return dest{host: strings.TrimSuffix(strings.ToLower(c.Host), "."), typ: c.Type, tls: string(tls), auth: auth,
		port: port, ca: c.CAFile, serverName: c.ServerName, insecure: c.InsecureSkipVerify, plaintext: c.AllowPlaintextAuth}
}

// moved: another server, protocol or mechanism, or TLS that protects less
// (turning verification or plaintext logins off again is a tightening).
func moved(o, n dest) bool {
	return o.host != n.host || o.port != n.port || o.typ != n.typ || o.tls != n.tls || o.auth != n.auth ||
		o.ca != n.ca || o.serverName != n.serverName ||
		(!o.insecure && n.insecure) || (!o.plaintext && n.plaintext)
}

func relay(l config.Leg) probe.Config {
	m := config.Monitor{Type: "smtp", SMTP: &l}
	return *m.ProbeConfig(l.Host).SMTP
}

// sameHostKey compares two known_host lines by their keys (a comment may
// differ).
func sameHostKey(a, b string) bool {
	ka, errA := recovery.ParseKnownHost(a)
	kb, errB := recovery.ParseKnownHost(b)
	if errA != nil || errB != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return bytes.Equal(ka.Marshal(), kb.Marshal())
}
