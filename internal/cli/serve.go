package cli

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/api"
	"github.com/mailmon/mailmon/internal/apply"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/demo"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/gctune"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/proctune"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
	"github.com/mailmon/mailmon/internal/web"
	"github.com/mailmon/mailmon/internal/wire"
)

// dbOptions are the flags of commands that touch the database.
type dbOptions struct {
	db       string
	keyFile  string
	readOnly bool // the command only reads: the key is checked, nothing written
}

// dbFlags adds --db and --key-file.
func dbFlags(fs *flag.FlagSet) *dbOptions {
	o := &dbOptions{}
	fs.StringVar(&o.db, "db", "./mailmon.db", "database: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DB shared by several nodes")
	fs.StringVar(&o.keyFile, "key-file", "", "the key that encrypts stored secrets (default: $"+vault.EnvVar+", else storage.key beside a SQLite database; with PostgreSQL every node needs the same key)")
	return o
}

// openDB opens the database and, if needVault, the vault of its secrets
// (storageKey), checked against the database before anything else.
func openDB(ctx context.Context, o *dbOptions, needVault bool, env Env) (store.Store, *vault.Vault, error) {
	if !needVault {
		s, err := openStoreOnly(ctx, o)
		return s, nil, err
	}
	v, origin, err := storageKey(o, env)
	if err != nil {
		return nil, nil, err
	}
	s, err := openStoreOnly(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	if err := unlock(ctx, s, v, origin, o.readOnly, env); err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, v, nil
}

// openStoreOnly opens (and migrates) the database of --db.
func openStoreOnly(ctx context.Context, o *dbOptions) (store.Store, error) {
	if postgres.IsURL(o.db) {
		return postgres.Open(ctx, o.db)
	}
	if err := os.MkdirAll(filepath.Dir(o.db), 0o700); err != nil {
		return nil, fmt.Errorf("--db: %v", err)
	}
	return sqlite.Open(ctx, o.db)
}

func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("mailmon "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// Serve is "mailmon serve": the daemon.
func Serve(ctx context.Context, args []string, env Env) int {
	fs := newFlags("serve", env)
	dbo := dbFlags(fs)
	db := &dbo.db
	listen := fs.String("listen", "127.0.0.1:8080", "address of the web UI and API")
	secretFile := fs.String("secret-file", "", "this installation's secret for round-trip probes (default: $MAILMON_SECRET, else created in the user's config directory)")
	inFlight := fs.Int("max-in-flight", 0, "tests running at once, at most; a test of a silent server holds its slot for its whole maximum duration (default 2048, or a quarter of the open-files limit)")
	probeMax := fs.Duration("probe-max-timeout", api.DefaultProbeMaxTimeout, "/probe: the longest a test may take, whatever Prometheus' scrape timeout or the monitor says")
	probeInFlight := fs.Int("probe-max-in-flight", api.DefaultProbeMaxInFlight, "/probe: tests running at once, at most")
	baseURL := fs.String("external-url", "", "the address people reach mailmon at (https://mailmon.example.com behind a proxy), for links in alerts (default: http://LISTEN)")
	fs.StringVar(baseURL, "base-url", "", "the former name of --external-url")
	ackLinkLife := fs.String("ack-link-lifetime", "7d", "with --external-url: how long the one-click acknowledgement link of an alert works, e.g. 7d or 12h")
	proxyList := fs.String("trusted-proxies", "", "reverse proxies (CIDRs and addresses, comma-separated) whose X-Forwarded-For, -Proto, -Host and Forwarded headers give the client's address, scheme and host: for login limits, Secure cookies, the same-origin check and logs")
	logFormat := fs.String("log-format", "text", "the log's format on standard error: text or json")
	demoMode := fs.Bool("demo", false, "also run a loopback demo mail server with ready-made monitors (a temporary database unless --db is given)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	tlsKey := fs.String("tls-key", "", "the private key of --tls-cert (PEM)")
	rollupEvery := fs.Duration("rollup-every", 5*time.Minute, "how often statistics are rolled up for reports")
	auditRetention := fs.String("audit-retention", "365d", "how long the audit log (who changed what) is kept, e.g. 365d or 2160h")
	sso := ssoFlags(fs)
	require2FA := fs.String("require-2fa", "", "roles whose local logins must use a second factor (TOTP), comma-separated, e.g. admin,editor: such a user enrols at their next login")
	nodeName := fs.String("node", "", "this node's name, shown with its results (default: HOST:PORT of --listen)")
	location := fs.String("location", "", "this node's location label (a-z, 0-9, . _ -), shown with its results; monitors with locations: {require: K} are tested from each location")
	dnsServer := fs.String("resolver", "", "the DNS resolver (IP:PORT) of the domain monitors (dnsbl, spf, dmarc, dkim, tls-rpt, mta-sts) that name none (default: the first nameserver of /etc/resolv.conf)")
	lease := fs.Duration("lease", 15*time.Second, "with --db postgres://: the lease period; a dead node's monitors move to the others within it")
	var allow egress.Items
	fs.Var(&allow, "allow-targets", "CIDRs, addresses and host names (*.example.com) that /probe and targets set over the API or web UI may reach, comma-separated or repeated; "+
		"only these when given (default: anything but loopback, link-local, unspecified and multicast addresses; mailmon apply -f is not limited)")
	dbAlert := dbAlertFlags(fs) // dbalert.go
	keyExchange := fs.String("tls-key-exchange", "default", "the TLS key exchange of monitors whose tls_key_exchange is not set: default (Go's: hybrid post-quantum X25519MLKEM768 first) or x25519 (X25519 alone: less CPU per handshake)")
	renderAhead := fs.Bool("metrics-render-ahead", true, "answer a scraper of /metrics that scrapes at a steady interval (Prometheus) from an exposition rendered shortly before its scrape is due, at most max(2s, 3 × a render's time) old; false: every scrape renders it anew")
	pprofAddr := fs.String("debug-pprof", "", "serve Go's CPU and memory profiles on this loopback address (such as 127.0.0.1:6060, at /debug/pprof/) to find where the daemon's time and memory go (default: off)")
	limits := config.TimingLimits{}
	fs.DurationVar(&limits.MinInterval, "min-interval", config.DefaultMinInterval, "the shortest interval between tests of a monitor: the API refuses less, and every monitor is tested no more often")
	fs.DurationVar(&limits.MaxDuration, "max-duration", config.DefaultMaxDuration, "the longest timing.max_duration of a monitor: the API refuses more, and no test runs longer")
	if code, done := parseFlags(fs, args, env, nil); done {
		return code
	}
	if limits.MinInterval <= 0 || limits.MaxDuration <= 0 {
		return errorf(env, "serve: --min-interval and --max-duration must be positive")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errorf(env, "serve: --tls-cert and --tls-key go together")
	}
	if *location != "" {
		if err := config.CheckLocation(*location); err != nil {
			return errorf(env, "serve: --location: %v", err)
		}
	}
	if *lease < time.Second {
		return errorf(env, "serve: --lease: %v is shorter than a second", *lease)
	}
	dbSet, minSet := false, false
	fs.Visit(func(f *flag.Flag) { dbSet, minSet = dbSet || f.Name == "db", minSet || f.Name == "min-interval" })
	policy, err := egress.Parse(allow)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	proxies, err := web.ParseProxies(*proxyList)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	if *baseURL != "" {
		if u, err := neturl.Parse(*baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errorf(env, "serve: --external-url: %q is not an http:// or https:// address (such as https://mailmon.example.com)", *baseURL)
		}
		*baseURL = strings.TrimSuffix(*baseURL, "/")
	}
	log, err := newLogger(*logFormat, env.Stderr)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	if msg := probe.CheckKeyExchange(*keyExchange); msg != "" {
		return errorf(env, "serve: --tls-key-exchange: %s", msg)
	}
	if *pprofAddr != "" {
		if _, err := debugPprof(ctx, *pprofAddr, log); err != nil {
			return errorf(env, "serve: %v", err)
		}
	}
	outageAlerts, err := dbAlert.notifiers(env.Getenv)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	var demoDir string
	if *demoMode {
		policy, limits = demoLimits(env, policy, len(allow) > 0, limits, minSet)
		dir, err := os.MkdirTemp("", "mailmon-demo-")
		if err != nil {
			return errorf(env, "serve: %v", err)
		}
		defer os.RemoveAll(dir)
		demoDir = dir
		if !dbSet {
			*db = filepath.Join(dir, "mailmon.db")
		}
	}
	st, v, err := openDB(ctx, dbo, true, env)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	defer st.Close()
	getenv := env.Getenv
	if *demoMode && *secretFile == "" && getenv(keyfile.InstallationEnv) == "" {
		getenv = func(k string) string { // the demo leaves the user's config directory alone
			if k == keyfile.InstallationEnv {
				return "mailmon-demo-installation-secret"
			}
			return env.Getenv(k)
		}
	}
	key, err := keyfile.Source{File: *secretFile, Getenv: getenv}.Load()
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	var tlsCerts *certPair
	if *tlsCert != "" {
		if tlsCerts, err = loadCerts(*tlsCert, *tlsKey); err != nil {
			return errorf(env, "serve: %v", err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return errorf(env, "serve: --listen: %v", err)
	}
	scheme := "http://"
	if *tlsCert != "" {
		scheme = "https://"
	}
	url := *baseURL
	if url == "" {
		url = scheme + ln.Addr().String()
	}
	node := store.Node{ID: rand.Text(), Name: *nodeName, Location: *location}
	if node.Name == "" {
		host, _ := os.Hostname()
		node.Name = net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	keepAudit, err := catalog.ParseLifetime(*auditRetention)
	if err != nil {
		return errorf(env, "serve: --audit-retention: %v", err)
	}
	ackLinks, err := newAckLinks(*baseURL, *ackLinkLife, key)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	single, err := sso.build(env, url)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	userHeader, userHeaderRole, err := sso.header(proxies)
	if err != nil {
		return errorf(env, "serve: %v", err)
	}
	var twoFactor []catalog.Role
	for _, r := range strings.Split(*require2FA, ",") {
		if r = strings.TrimSpace(r); r != "" {
			role, err := catalog.ParseRole(r)
			if err != nil {
				return errorf(env, "serve: --require-2fa: %v", err)
			}
			twoFactor = append(twoFactor, role)
		}
	}
	opts := engine.Options{Store: st, Vault: v, InstallationKey: key, MaxInFlight: *inFlight, BaseURL: url, AckLinks: ackLinks, Log: log, JanitorEvery: *rollupEvery, AuditRetention: keepAudit,
		Node: node, Lease: *lease, Deny: denyList(env.Getenv("MAILMON_TEST_DENY_TARGETS")), Egress: policy, Timing: limits,
		OutageAlerts: outageAlerts, OutageAfter: dbAlert.after, OutageEvery: dbAlert.every, DNSServer: *dnsServer, KeyExchange: *keyExchange}
	if c, ok := st.(store.Cluster); ok {
		opts.Cluster = c
		log.Info("sharing the monitors with the other nodes on the database", "node", node.Name, "location", node.Location, "lease", *lease)
	}
	cat := &catalog.Catalog{Store: st, Vault: v, Egress: policy, Timing: limits} // the API's and the web UI's saves
	opts.StoreRefreshToken = cat.StoreRefreshToken                               // rotated in by a token endpoint
	e := engine.New(opts)
	log.Info("targets set over the API or web UI, and /probe, may reach "+policy.String(), "min_interval", limits.MinInterval, "max_duration", limits.MaxDuration)
	mux := http.NewServeMux()
	apiSrv := &api.Server{Store: st, Engine: e, Vault: v, Log: log, Location: node.Location, MetricsRenderAhead: *renderAhead,
		ProbeMaxTimeout: *probeMax, ProbeMaxInFlight: *probeInFlight, Egress: policy, Timing: limits, Catalog: cat}
	mux.Handle("/", apiSrv.Handler())
	(&web.Server{Store: st, Engine: e, Catalog: cat, Log: log, Secure: *tlsCert != "", Proxies: proxies, TwoFactorRoles: twoFactor,
		SSO: single, NoLocalLogins: !sso.localLogins, UserHeader: userHeader, UserHeaderRole: userHeaderRole, AckLinks: ackLinks}).Register(mux)
	if *demoMode {
		token, pw, mailPW, err := startDemo(ctx, st, v, demoDir, url, mux, env)
		if err != nil {
			ln.Close()
			return errorf(env, "serve --demo: %v", err)
		}
		fmt.Fprintf(env.Stdout, "demo: a mail server on 127.0.0.1 with ready-made monitors, some failing on purpose\n"+
			"demo: log in at %s/login as user %q with password %s (made for this run; the demo database is temporary)\n"+
			"demo: the demo mailboxes %s and %s have the password %s\n"+
			"demo: API token (shown once): %s\n"+
			"demo: try  curl -H 'Authorization: Bearer %s' %s/api/v1/monitors\n", url, DemoUser, pw, demo.IMAPUser, demo.POP3User, mailPW, token, token, url)
	}
	if err := e.Load(ctx); err != nil {
		ln.Close()
		return errorf(env, "serve: loading monitors: %v", err)
	}
	srv := &http.Server{Handler: web.Headers(mux, *tlsCert != ""), ReadHeaderTimeout: 10 * time.Second}
	// SIGHUP: the TLS certificate and key are read again (the unit's
	// ExecReload); without TLS there is nothing to reload.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if tlsCerts == nil {
					log.Info("SIGHUP: no --tls-cert to reload")
					continue
				}
				tlsCerts.reloadLogged(log)
			}
		}
	}()
	done, tuned, procs := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	go func() { gctune.Run(ctx, gctune.DefaultHeadroom, time.Second); close(tuned) }()
	go func() { proctune.Run(ctx, proctune.DefaultPolicy, time.Second, 5*time.Second, log); close(procs) }()
	go func() {
		<-ctx.Done()
		log.Info("stopping: no new tests; the tests and alert deliveries in flight finish first (each within its own time limit)")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(env.Stdout, "mailmon listening on %s (database %s)\n", url, postgres.Redact(*db))
	serve := func() error { return srv.Serve(ln) }
	if tlsCerts != nil {
		srv.TLSConfig = tlsCerts.config()
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http server", "err", err)
	}
	<-done
	<-tuned
	<-procs
	log.Info("stopped")
	return ExitOK
}

// newAckLinks signs the acknowledgement links of alerts under the
// --external-url (nil without one: an address guessed from --listen may
// not be one the recipients reach), with a key derived from the
// installation's.
func newAckLinks(external, lifetime string, key keyfile.Key) (*alert.AckLinks, error) {
	ttl, err := catalog.ParseLifetime(lifetime)
	if err != nil {
		return nil, fmt.Errorf("--ack-link-lifetime: %v", err)
	}
	if external == "" {
		return nil, nil
	}
	return alert.NewAckLinks(external, key, ttl)
}

// newLogger is the daemon's log on w, in --log-format.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	o := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", format)
}

// denyList reads MAILMON_TEST_DENY_TARGETS, for tests only: a comma-separated
// list of host:port targets this node's tests treat as refused (one
// location's path to them cut).
func denyList(v string) func(string) bool {
	if v == "" {
		return nil
	}
	deny := map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		deny[strings.TrimSpace(t)] = true
	}
	return func(hostport string) bool { return deny[hostport] }
}

// Token is "mailmon token create --name N [--scope S,…] [--expires 90d]"
// (and list, delete): API tokens and their scopes (docs/teams.md).
func Token(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && isHelp(args[0]) {
		args = []string{"create", "--help"} // one set of flags for all three
	}
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "delete") {
		return errorf(env, "token: usage: mailmon token create --name N [--scope read,write,probe,metrics] [--expires 90d] | list | delete --name N")
	}
	fs := newFlags("token "+args[0], env)
	dbo := dbFlags(fs)
	name := fs.String("name", "", "the token's name")
	scope := fs.String("scope", catalog.AllScopes.String(), "create: what the token may do, comma-separated: read (GET the API), write (change devices, monitors, alerts, credentials), probe (/probe, test now), metrics (/metrics)")
	expires := fs.String("expires", "", "create: how long the token lives, e.g. 90d or 12h (default: never expires)")
	if code, done := parseFlags(fs, args[1:], env, nil); done {
		return code
	}
	st, _, err := openDB(ctx, dbo, false, env)
	if err != nil {
		return errorf(env, "token: %v", err)
	}
	defer st.Close()
	cat := &catalog.Catalog{Store: st}
	switch args[0] {
	case "create":
		if *name == "" {
			return errorf(env, "token create: --name is required")
		}
		scopes, err := catalog.ParseScopes(strings.Split(*scope, ","))
		if err != nil {
			return errorf(env, "token create: --scope: %v", err)
		}
		var until time.Time
		if *expires != "" {
			d, err := catalog.ParseLifetime(*expires)
			if err != nil {
				return errorf(env, "token create: --expires: %v", err)
			}
			until = time.Now().Add(d)
		}
		tok, _, err := cat.CreateToken(ctx, operator(env), *name, scopes, until)
		if fe, ok := catalog.Fields(err); ok {
			return errorf(env, "token create: --%s: %s", fe[0].Path, fe[0].Msg)
		}
		if err != nil {
			return errorf(env, "token create: %v", err)
		}
		// Printed once: only its hash is kept.
		fmt.Fprintln(env.Stdout, tok)
	case "list":
		ts, err := st.Tokens(ctx)
		if err != nil {
			return errorf(env, "token list: %v", err)
		}
		for _, t := range ts {
			used, exp := "never used", "never expires"
			if !t.Used.IsZero() {
				used = "last used " + t.Used.Format(time.RFC3339)
			}
			if !t.Expires.IsZero() {
				exp = "expires " + t.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\tcreated %s\t%s\t%s\n", wire.Sanitize(t.Name), wire.Sanitize(strings.Join(t.Scopes, ",")),
				t.Created.Format(time.RFC3339), used, exp)
		}
	case "delete":
		ts, err := st.Tokens(ctx)
		if err != nil {
			return errorf(env, "token delete: %v", err)
		}
		for _, t := range ts {
			if t.Name == *name {
				if err := cat.DeleteToken(ctx, operator(env), t.ID); err != nil {
					return errorf(env, "token delete: %v", err)
				}
				return ExitOK
			}
		}
		return errorf(env, "token delete: no token is named %q", *name)
	}
	return ExitOK
}

// Apply is "mailmon apply -f FILE".
func Apply(ctx context.Context, args []string, env Env) int {
	fs := newFlags("apply", env)
	dbo := dbFlags(fs)
	file := fs.String("f", "", "the configuration file (YAML); - reads standard input")
	if code, done := parseFlags(fs, args, env, nil); done {
		return code
	}
	if *file == "" {
		return errorf(env, "apply: -f FILE is required")
	}
	defer gctune.Batch()()
	data, err := config.ReadFile(*file, env.Stdin)
	if err != nil {
		return errorf(env, "apply: %v", err)
	}
	name := *file
	if name == "-" {
		name = "stdin"
	}
	f, err := config.Parse(name, data)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitCritical
	}
	st, v, err := openDB(ctx, dbo, true, env)
	if err != nil {
		return errorf(env, "apply: %v", err)
	}
	defer st.Close()
	rep, err := apply.Apply(ctx, st, v, f, apply.Env{Getenv: env.Getenv, Operator: operatorName(env)})
	for _, c := range rep {
		fmt.Fprintf(env.Stdout, "%s %s: %s\n", c.Kind, c.Name, c.Action)
	}
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			locate := config.Locate(data)
			for _, p := range ps {
				p.File = name
				p.Line, p.Col = locate(p.Field)
				fmt.Fprintln(env.Stderr, p.Error())
			}
			return ExitCritical
		}
		return errorf(env, "apply: %v", err)
	}
	return ExitOK
}

// Export is "mailmon export": the configuration as YAML, each secret a
// placeholder that apply reads from the environment.
func Export(ctx context.Context, args []string, env Env) int {
	fs := newFlags("export", env)
	dbo := dbFlags(fs)
	if code, done := parseFlags(fs, args, env, nil); done {
		return code
	}
	dbo.readOnly = true // the key is checked: a wrong one is refused here too
	st, _, err := openDB(ctx, dbo, true, env)
	if err != nil {
		return errorf(env, "export: %v", err)
	}
	defer st.Close()
	f, err := apply.Export(ctx, st)
	if err != nil {
		return errorf(env, "export: %v", err)
	}
	out, err := config.MarshalExport(f)
	if err != nil {
		return errorf(env, "export: %v", err)
	}
	env.Stdout.Write(out)
	return ExitOK
}

// DemoUser is the login serve --demo makes.
const DemoUser = "admin"

// startDemo starts the demo mail server, applies its monitors and alert,
// serves the alert receiver that prints alerts, and returns an API token,
// the password of a login (DemoUser) made for this run, and that of the
// demo mailboxes.
func startDemo(ctx context.Context, st store.Store, v *vault.Vault, dir, url string, mux *http.ServeMux, env Env) (token, pw, mailPW string, err error) {
	srv, err := demo.Start(ctx, dir)
	if err != nil {
		return "", "", "", err
	}
	mailPW = srv.Password
	// The receiver's path holds a key of this run, so that only this
	// daemon's alerts reach the console: no one else on the machine can
	// print "ALERT" lines in its name.
	key := api.NewToken()
	mux.HandleFunc("POST /demo/alerts/{key}", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.PathValue("key")), []byte(key)) != 1 {
			http.NotFound(w, r)
			return
		}
		var p alert.GenericPayload
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		line := fmt.Sprintf("ALERT %s: %s on %s is %s", p.Event, p.Monitor, p.Device, p.State)
		if p.Error.Code != "" {
			line += fmt.Sprintf(" (%s: %s)", p.Error.Code, p.Error.Message)
		}
		fmt.Fprintln(env.Stdout, line)
	})
	f, err := config.Parse("demo.yaml", []byte(srv.Config(url+"/demo/alerts/"+key)))
	if err != nil {
		return "", "", "", err
	}
	getenv := func(k string) string {
		if k == "MAILMON_DEMO_PW" {
			return srv.Password
		}
		return ""
	}
	if _, err := apply.Apply(ctx, st, v, f, apply.Env{Getenv: getenv}); err != nil {
		return "", "", "", err
	}
	token = api.NewToken()
	if err := st.PutToken(ctx, &store.Token{Name: "demo " + time.Now().Format(time.RFC3339Nano), Hash: api.HashToken(token), Scopes: catalog.AllScopes.Names()}); err != nil {
		return "", "", "", err
	}
	// A fresh password each run: with --db the login may exist already.
	pw = web.NewPassword()
	if u, err := st.UserByName(ctx, DemoUser); err == nil {
		err = web.SetPassword(ctx, &catalog.Catalog{Store: st}, operator(env), u, pw, "", 0)
		return token, pw, mailPW, err
	}
	_, err = web.AddUser(ctx, &catalog.Catalog{Store: st}, operator(env), DemoUser, pw, catalog.Admin, 0)
	return token, pw, mailPW, err
}
