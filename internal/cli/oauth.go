package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/oauth/endpoint"
	"github.com/mailmon/mailmon/internal/plugin"
)

// OAuth is "mailmon oauth login": the device code flow (RFC 8628) in a
// terminal, to obtain the first refresh token of a person's mailbox
// (Google, Microsoft delegated). The refresh token is stored, sealed, for
// a monitor (--monitor DEVICE/NAME), or printed for the YAML's
// oauth.refresh_token ({file: …} keeps it out of the file itself).
func OAuth(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		args = []string{"login", "--help"}
	}
	if len(args) == 0 || args[0] != "login" {
		return errorf(env, "oauth: usage: mailmon oauth login --provider microsoft|google [--tenant T] --client-id ID [--monitor DEVICE/NAME] (\"mailmon help oauth\" lists the flags)")
	}
	fs := newFlags("oauth login", env)
	dbo := dbFlags(fs)
	var o loginFlags
	fs.StringVar(&o.provider, "provider", "", "microsoft (with --tenant) or google; or give --token-url and --device-url")
	fs.StringVar(&o.tenant, "tenant", "", "microsoft: the directory (tenant) id or a verified domain")
	fs.StringVar(&o.tokenURL, "token-url", "", "the token endpoint (default by provider)")
	deviceURL := fs.String("device-url", "", "the device authorization endpoint (default by provider)")
	fs.StringVar(&o.clientID, "client-id", "", "the application (client) id (a public client: no secret)")
	fs.StringVar(&o.secretFile, "client-secret-file", "", "read the client secret from this file, for a confidential client (Google's installed apps have one)")
	fs.StringVar(&o.secretEnv, "client-secret-env", "", "read the client secret from this environment variable")
	fs.StringVar(&o.scope, "scope", "", "space-separated scopes (default by provider: IMAP, POP and SMTP of the mailbox, offline_access)")
	ca := fs.String("ca", "", "PEM file of a CA to trust besides the system's (a private endpoint)")
	monitor := fs.String("monitor", "", "store the refresh token, sealed, for this monitor (DEVICE/NAME) in --db; default: print it")
	if code, done := parseFlags(fs, args[1:], env, nil); done {
		return code
	}
	f, device, err := o.loginFlow(*ca, deviceURL, env)
	if err != nil {
		return errorf(env, "oauth login: %v", err)
	}
	rt, err := endpoint.DeviceLogin(ctx, f, device, func(p endpoint.Prompt) {
		fmt.Fprintf(env.Stderr, "To sign in, open %s and enter the code %s\nwaiting for the sign-in…\n", p.VerificationURI, p.UserCode)
	})
	if err != nil {
		return errorf(env, "oauth login: %v", err)
	}
	if *monitor == "" {
		fmt.Fprintln(env.Stdout, rt)
		fmt.Fprintln(env.Stderr, "the refresh token is above: put it in a file readable only by mailmon and name it in the monitor's oauth.refresh_token: {file: PATH}")
		return ExitOK
	}
	dev, name, ok := strings.Cut(*monitor, "/")
	if !ok || dev == "" || name == "" {
		return errorf(env, "oauth login: --monitor: %q is not DEVICE/NAME", *monitor)
	}
	st, v, err := openDB(ctx, dbo, true, env)
	if err != nil {
		return errorf(env, "oauth login: %v", err)
	}
	defer st.Close()
	d, err := st.DeviceByName(ctx, dev)
	if err != nil {
		return errorf(env, "oauth login: --monitor: no device %q: %v", dev, err)
	}
	m, err := st.MonitorByName(ctx, d.ID, name)
	if err != nil {
		return errorf(env, "oauth login: --monitor: no monitor %q on %s: %v", name, dev, err)
	}
	if err := (&catalog.Catalog{Store: st, Vault: v}).LoginRefreshToken(ctx, m.ID, rt); err != nil {
		return errorf(env, "oauth login: %v", err)
	}
	fmt.Fprintf(env.Stderr, "the refresh token is stored, sealed, for %s/%s\n", dev, name)
	return ExitOK
}

// loginFlags are oauth login's flags.
type loginFlags struct {
	tokenURL, clientID, secretFile, secretEnv, scope, provider, tenant string
}

// loginFlow is the flow and device URL of a login's flags.
func (o *loginFlags) loginFlow(ca string, deviceURL *string, env Env) (*oauth.Flow, string, error) {
	if o.clientID == "" {
		return nil, "", errors.New("--client-id is required: the application (client) id of the app registration")
	}
	tokenURL, scope, device := o.tokenURL, o.scope, *deviceURL
	if o.provider != "" {
		p, err := oauth.Preset(o.provider, o.tenant)
		if err != nil {
			return nil, "", fmt.Errorf("--provider: %v", err)
		}
		tokenURL, scope, device = or(tokenURL, p.TokenURL), or(scope, p.UserScope), or(device, p.DeviceURL)
	}
	if tokenURL == "" || device == "" {
		return nil, "", errors.New("give --provider, or --token-url and --device-url")
	}
	secret, err := plugin.Secret(o.secretFile, o.secretEnv, env.Getenv)
	if err != nil {
		return nil, "", fmt.Errorf("--client-%s", strings.TrimPrefix(strings.ReplaceAll(err.Error(), "--password-", "secret-"), "--"))
	}
	return &oauth.Flow{TokenURL: tokenURL, ClientID: o.clientID, ClientSecret: secret, Scopes: strings.Fields(scope), CAFile: ca}, device, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
