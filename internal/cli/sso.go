package cli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/web"
)

// ssoEnv holds the client secret when no --oidc-client-secret-file is
// given.
const ssoEnv = "MAILMON_OIDC_CLIENT_SECRET"

// ssoOptions are serve's flags of single sign-on (docs/teams.md).
type ssoOptions struct {
	issuer, clientID, secretFile, roleClaim, roles, defaultRole string
	localLogins                                                 bool
	// The trusted-header mode: the header an authenticating proxy names
	// the user in, and the role of one mailmon does not know.
	userHeader, userHeaderRole string
}

func ssoFlags(fs *flag.FlagSet) *ssoOptions {
	o := &ssoOptions{}
	fs.StringVar(&o.issuer, "oidc-issuer", "", "single sign-on: the OpenID Connect provider's issuer URL, e.g. https://login.example.com/realms/staff (its callback is BASE-URL/login/oidc/callback)")
	fs.StringVar(&o.clientID, "oidc-client-id", "", "single sign-on: mailmon's client id at the provider")
	fs.StringVar(&o.secretFile, "oidc-client-secret-file", "", "single sign-on: a file (mode 0600) holding the client secret (default: $"+ssoEnv+")")
	fs.StringVar(&o.roleClaim, "oidc-role-claim", "groups", "single sign-on: the claim that lists a user's groups")
	fs.StringVar(&o.roles, "oidc-roles", "", "single sign-on: groups and their roles, e.g. mailmon-admins=admin,noc=editor,helpdesk=viewer (the strongest wins)")
	fs.StringVar(&o.defaultRole, "oidc-default-role", "", "single sign-on: the role of a user none of whose groups is in --oidc-roles (default: refused)")
	fs.StringVar(&o.userHeader, "auth-header", "", "an authenticating proxy's header naming the user (Remote-User, X-Forwarded-User), believed only from --trusted-proxies")
	fs.StringVar(&o.userHeaderRole, "auth-header-role", "", "the role of a user --auth-header names whom mailmon does not know (default: refused)")
	fs.BoolVar(&o.localLogins, "local-logins", true, "allow logins with a name and password; --local-logins=false leaves single sign-on alone")
	return o
}

// header checks the trusted-header mode's flags: its header and the role
// of new users.
func (o *ssoOptions) header(proxies web.Proxies) (string, catalog.Role, error) {
	if o.userHeader == "" {
		if o.userHeaderRole != "" {
			return "", "", fmt.Errorf("--auth-header-role needs --auth-header (e.g. Remote-User)")
		}
		return "", "", nil
	}
	if len(proxies) == 0 {
		return "", "", fmt.Errorf("--auth-header %s needs --trusted-proxies: the header is believed only from the authenticating proxy's address", o.userHeader)
	}
	if o.userHeaderRole == "" {
		return o.userHeader, "", nil
	}
	r, err := catalog.ParseRole(o.userHeaderRole)
	if err != nil {
		return "", "", fmt.Errorf("--auth-header-role: %v", err)
	}
	return o.userHeader, r, nil
}

// build is the web UI's single sign-on, nil without --oidc-issuer.
func (o *ssoOptions) build(env Env, baseURL string) (*web.SSO, error) {
	if o.issuer == "" {
		if !o.localLogins && o.userHeader == "" {
			return nil, fmt.Errorf("--local-logins=false needs single sign-on: give --oidc-issuer, --oidc-client-id and --oidc-client-secret-file (or --auth-header)")
		}
		return nil, nil
	}
	if o.clientID == "" {
		return nil, fmt.Errorf("--oidc-client-id is required with --oidc-issuer: the client id the provider gave mailmon")
	}
	var secret string
	switch {
	case o.secretFile != "":
		k, err := keyfile.Source{File: o.secretFile}.Load()
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %v", err)
		}
		secret = string(k)
	case env.Getenv != nil && env.Getenv(ssoEnv) != "":
		secret = strings.TrimSpace(env.Getenv(ssoEnv))
	default:
		return nil, fmt.Errorf("--oidc-client-secret-file is required with --oidc-issuer (or set $%s)", ssoEnv)
	}
	s := &web.SSO{Issuer: o.issuer, ClientID: o.clientID, ClientSecret: secret, RedirectURL: strings.TrimRight(baseURL, "/") + "/login/oidc/callback",
		RoleClaim: o.roleClaim, Roles: map[string]catalog.Role{}}
	for _, pair := range strings.Split(o.roles, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		group, role, ok := strings.Cut(pair, "=")
		r, err := catalog.ParseRole(role)
		if !ok || group == "" || err != nil {
			return nil, fmt.Errorf("--oidc-roles: %q is not GROUP=ROLE (roles: viewer, editor, admin), e.g. mailmon-admins=admin", pair)
		}
		s.Roles[group] = r
	}
	if o.defaultRole != "" {
		r, err := catalog.ParseRole(o.defaultRole)
		if err != nil {
			return nil, fmt.Errorf("--oidc-default-role: %v", err)
		}
		s.DefaultRole = r
	}
	if len(s.Roles) == 0 && s.DefaultRole == "" {
		return nil, fmt.Errorf("single sign-on gives nobody a role: give --oidc-roles GROUP=ROLE,… or --oidc-default-role ROLE")
	}
	return s, nil
}
