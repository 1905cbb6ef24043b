package config

import (
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
)

// ProbeConfig is the probe configuration of a monitor on a device at
// address, without its secrets (the caller resolves and sets them).
func (m *Monitor) ProbeConfig(address string) probe.Config {
	c := probe.Config{
		Type: m.Type, Host: address, Port: m.Port, TLS: probe.TLSMode(m.TLS),
		Timeout: m.Timing.MaxDuration.D(), WarnRTT: m.Timing.WarnRTT.D(), CertWarnDays: m.CertWarnDays,
		CAFile: m.CA, ServerName: m.ServerName, InsecureSkipVerify: m.Insecure, KeyExchange: m.KeyExchange,
		User: m.User, Auth: m.Auth, AllowPlaintextAuth: m.AllowPlaintext,
		OAuthToken: oauth.Source{File: m.OAuthTokenFile, Command: m.OAuthTokenCommand},
		EHLOName:   m.EHLO, Mailbox: m.Mailbox, MailboxCheck: m.MailboxCheck, Stat: m.Stat, Expect: m.Expect,
		From: m.From, To: m.To, Monitor: m.Name,
		PollInterval: m.PollInterval.D(), StaleAfter: m.StaleAfter.D(),
		AuthResults: m.AuthResults, AuthResultsID: m.AuthResultsID, AuthResultsMethods: m.AuthResultsMethods,
		Domain: m.Domain, DNSServer: m.Resolver, Zones: m.Zones, Selectors: m.Selectors, IPs: m.IPs,
	}
	if m.OAuth != nil {
		c.OAuthToken.Flow = m.OAuth.Flow(m.Type, "", "")
		if c.OAuthToken.Flow.Subject == "" {
			c.OAuthToken.Flow.Subject = m.User // a service account acts for the mailbox's user
		}
	}
	if m.SMTP != nil {
		leg := m.SMTP.probeConfig("smtp")
		if leg.Host == "" {
			leg.Host = address
		}
		leg.EHLOName = m.EHLO
		switch {
		case m.SMTP.OAuth != nil: // its own token endpoint
			leg.OAuthToken.Flow = m.SMTP.OAuth.Flow("smtp", "", "")
			if leg.User == "" {
				leg.User = m.User // the mailbox's account, through another app or scope
			}
			if leg.OAuthToken.Flow.Subject == "" {
				leg.OAuthToken.Flow.Subject = leg.User
			}
		case m.SMTP.legOAuth(m):
			leg.User, leg.OAuthToken = m.User, c.OAuthToken
		}
		c.SMTP = &leg
	}
	return c
}

func (l *Leg) probeConfig(typ string) probe.Config {
	return probe.Config{
		Type: typ, Host: l.Host, Port: l.Port, TLS: probe.TLSMode(l.TLS),
		User: l.User, Auth: l.Auth, CAFile: l.CA, ServerName: l.ServerName,
		InsecureSkipVerify: l.InsecureSkipVerify, AllowPlaintextAuth: l.AllowPlaintextAuth,
	}
}
