package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
)

// oauthFlags are check's flags of a token endpoint mailmon asks itself
// (their options are in the login group of flags.go's table).
type oauthFlags struct {
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
		return nil, fmt.Errorf("--oauth-refresh-token-file: %v", strings.TrimPrefix(err.Error(), "--password-file: "))
	}
	if o.provider != "" {
		p, err := oauth.Preset(o.provider, o.tenant)
		if err != nil {
			return nil, fmt.Errorf("--oauth-provider: %v", err)
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
		return nil, errors.New("--oauth-tenant: applies with --oauth-provider microsoft")
	}
	secret, err := password(o.secretFile, o.secretEnv, env)
	if err != nil {
		return nil, fmt.Errorf("--oauth-client-%s", strings.TrimPrefix(strings.ReplaceAll(err.Error(), "--password-", "secret-"), "--"))
	}
	return &oauth.Flow{TokenURL: tokenURL, ClientID: o.clientID, ClientSecret: secret, RefreshToken: refresh,
		Scopes: strings.Fields(scope), CAFile: cfg.CAFile}, nil
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
