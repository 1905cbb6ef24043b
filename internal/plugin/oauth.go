package plugin

import (
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
)

// oauthFlags are check's flags of a token endpoint mailmon asks itself
// (their options are in the login group of flags.go's table): the
// mailbox's (--oauth-*) or, with pre "smtp-" (set by config), a round
// trip's SMTP leg's own (--smtp-oauth-*, in the round trips group).
type oauthFlags struct {
	pre                                                                             string
	tokenURL, clientID, secretFile, secretEnv, scope, refreshFile, provider, tenant string
}

// Secret reads a secret from a file's first line or an environment
// variable, never from the command line (for mailmon oauth login).
func Secret(file, envVar string, getenv func(string) string) (string, error) {
	return password(file, envVar, Env{Getenv: getenv})
}

func (o *oauthFlags) set() bool {
	return o.provider != "" || o.tokenURL != "" || o.clientID != "" || o.secretFile != "" || o.secretEnv != "" || o.refreshFile != ""
}

// source is the token endpoint the flags name, nil when none; a provider
// fills the token URL, the scope and, left out, the host.
func (o *oauthFlags) source(cfg *probe.Config, env Env) (*oauth.Flow, error) {
	if !o.set() {
		return nil, nil
	}
	tokenURL, scope := o.tokenURL, o.scope
	refresh, err := password(o.refreshFile, "", env)
	if err != nil {
		return nil, fmt.Errorf("--%soauth-refresh-token-file: %v", o.pre, strings.TrimPrefix(err.Error(), "--password-file: "))
	}
	if o.provider != "" {
		p, err := oauth.Preset(o.provider, o.tenant)
		if err != nil {
			return nil, fmt.Errorf("--%soauth-provider: %v", o.pre, err)
		}
		if tokenURL == "" {
			tokenURL = p.TokenURL
		}
		if scope == "" {
			scope = p.AppScope
			switch {
			case strings.HasPrefix(cfg.Type, "graph"):
				scope = p.GraphScope
			case refresh != "":
				scope = p.UserScope
			}
		}
		if cfg.Host == "" {
			cfg.Host = p.IMAP
			if strings.HasPrefix(cfg.Type, "pop3") {
				cfg.Host = p.POP3
			} else if strings.HasPrefix(cfg.Type, "smtp") {
				cfg.Host = p.SMTP
			}
		}
	} else if o.tenant != "" {
		return nil, fmt.Errorf("--%[1]soauth-tenant: applies with --%[1]soauth-provider microsoft", o.pre)
	}
	secret, err := password(o.secretFile, o.secretEnv, env)
	if err != nil {
		return nil, fmt.Errorf("--%soauth-client-%s", o.pre, strings.TrimPrefix(strings.ReplaceAll(err.Error(), "--password-", "secret-"), "--"))
	}
	return &oauth.Flow{TokenURL: tokenURL, ClientID: o.clientID, ClientSecret: secret, RefreshToken: refresh,
		Scopes: strings.Fields(scope), CAFile: cfg.CAFile}, nil
}

// legToken gives a round trip's SMTP leg its own token source when the
// --smtp-oauth-* options name one (XOAUTH2 and the mailbox's user unless
// given; with a provider, its submission server on 587 with STARTTLS
// unless given); otherwise the leg logs in with the mailbox's token
// when it names XOAUTH2 or OAUTHBEARER and no user of its own (o is the
// mailbox's flags).
func (o *oauthFlags) legToken(cfg *probe.Config, own *oauthFlags, set map[string]bool, env Env) error {
	leg := cfg.SMTP
	if !own.set() {
		o.shareToken(cfg)
		return nil
	}
	own.pre, leg.Type = "smtp-", "smtp"
	f, err := own.source(leg, env)
	if err != nil {
		return err
	}
	f.CAFile = leg.CAFile
	leg.OAuthToken.Flow = f
	if leg.User == "" {
		leg.User = cfg.User
	}
	if !set["smtp-auth"] {
		leg.Auth = "XOAUTH2"
	}
	if own.provider != "" && !set["smtp-port"] && !set["smtp-tls"] {
		leg.Port, leg.TLS = 587, probe.TLSStartTLS
	}
	return nil
}

// shareToken lets a round trip's SMTP leg log in with the mailbox's token
// when it names XOAUTH2 or OAUTHBEARER and no user of its own; with a
// provider, its submission server is the default host.
func (o *oauthFlags) shareToken(cfg *probe.Config) {
	leg := cfg.SMTP
	if cfg.OAuthToken.Flow == nil || leg.User != "" {
		return
	}
	if a := strings.ToUpper(leg.Auth); a != "XOAUTH2" && a != "OAUTHBEARER" {
		return
	}
	leg.User, leg.OAuthToken = cfg.User, cfg.OAuthToken
	if p, err := oauth.Preset(o.provider, o.tenant); err == nil && leg.Host == "" {
		leg.Host = p.SMTP
	}
}
