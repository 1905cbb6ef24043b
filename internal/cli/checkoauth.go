package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
)

// oauthFlags are check's flags of a token endpoint mailmon asks itself.
type oauthFlags struct {
	tokenURL, clientID, secretFile, secretEnv, scope, refreshFile, provider, tenant string
}

func (o *oauthFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.provider, "oauth-provider", "", "fetch the token from this provider: microsoft (with --oauth-tenant) or google; fills the token URL and scope, and --host when left out")
	fs.StringVar(&o.tenant, "oauth-tenant", "", "microsoft: the directory (tenant) id or a verified domain (contoso.onmicrosoft.com)")
	fs.StringVar(&o.tokenURL, "oauth-token-url", "", "fetch the token from this OAuth2 token endpoint (https; http only on loopback)")
	fs.StringVar(&o.clientID, "oauth-client-id", "", "the application (client) id")
	fs.StringVar(&o.secretFile, "oauth-client-secret-file", "", "read the client secret from this file (first line)")
	fs.StringVar(&o.secretEnv, "oauth-client-secret-env", "", "read the client secret from this environment variable")
	fs.StringVar(&o.scope, "oauth-scope", "", "space-separated scopes (default by provider; Microsoft 365: https://outlook.office365.com/.default)")
	fs.StringVar(&o.refreshFile, "oauth-refresh-token-file", "", "use the refresh token grant with the token in this file (from mailmon oauth login) instead of client credentials")
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
