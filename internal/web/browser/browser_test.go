// Package browser holds the web UI's browser tests: chromedp drives
// Debian's chromium through the seed's workflow against "mailmon serve
// --demo" and against real Postfix and Dovecot. Without chromium they
// skip with a message, and fail when $CI is set. A failing test leaves a
// screenshot whose path it logs.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"

	"github.com/mailmon/mailmon/internal/cli"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

const chromiumPath = "/usr/bin/chromium"

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserDir    string
	browserErr    error
	shotN         int // screenshots taken, for their names
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
	realmail.Stop()
	os.Exit(code)
}

func skipWithoutChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is missing (%v): .ci/run installs it", err)
		}
		t.Skipf("browser tests skipped: %s is missing (apt-get install chromium)", chromiumPath)
	}
}

// tab opens a new tab in the package's one chromium; on failure the test
// leaves a screenshot of it.
func tab(t *testing.T) context.Context {
	t.Helper()
	skipWithoutChromium(t)
	browserOnce.Do(func() {
		browserDir, browserErr = os.MkdirTemp("", "mailmon-chromium-")
		if browserErr != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-default-browser-check", true), chromedp.UserDataDir(browserDir), chromedp.WindowSize(1280, 900),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCtx = ctx
		browserCancel = func() { cancelCtx(); cancelAlloc() }
		browserErr = chromedp.Do(ctx) // starts the browser
	})
	if browserErr != nil {
		t.Fatalf("starting chromium: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	// The first run opens the tab and binds it to the context it is given:
	// this one, not the time-limited ones of each step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx)
		}
	})
	return ctx
}

// screenshot writes the tab's page as PNG for the person debugging: to
// $MAILMON_TEST_ARTIFACTS, else the temporary directory.
func screenshot(t *testing.T, ctx context.Context) {
	dir := os.Getenv("MAILMON_TEST_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	shotN++
	name := filepath.Join(dir, fmt.Sprintf("mailmon-%s-%d.png", regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_"), shotN))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url, _ := chromedp.Run(sctx, chromedp.Location())
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	t.Logf("screenshot of %s at the failure: %s", url, name)
}

// run runs browser actions with a time limit, failing the test with what
// was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i, a := range actions {
		if err := chromedp.Do(rctx, a); err != nil {
			t.Fatalf("%s, step %d of %d: %v", what, i+1, len(actions), err)
		}
	}
}

// get runs an action that returns a value, with a time limit.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(rctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates JavaScript in the page.
func eval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	return get(t, ctx, what, chromedp.Evaluate[T](expr))
}

// lineWriter collects a daemon's output and hands over its lines.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	lines chan string
	part  string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.part += string(p)
	for {
		i := strings.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- w.part[:i]:
		default:
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.buf.String() }

// daemon is "mailmon serve" run in this process, as the binary runs it.
type daemon struct {
	url    string
	db     string // its --db
	out    *lineWriter
	errOut *lineWriter
}

// serve runs mailmon serve with args until the test ends; it returns when
// the daemon listens.
func serve(t *testing.T, dir string, args ...string) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{db: filepath.Join(dir, "mailmon.db"), out: &lineWriter{lines: make(chan string, 100)}, errOut: &lineWriter{lines: make(chan string, 1)}}
	env := cli.Env{Stdout: d.out, Stderr: d.errOut, Getenv: func(k string) string {
		if k == keyfile.InstallationEnv {
			return "mailmon-browser-test-secret-0123456789"
		}
		return ""
	}}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, append([]string{"serve", "--db", d.db, "--listen", "127.0.0.1:0", "--rollup-every", "1s"}, args...), env)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-d.out.lines:
			if u, ok := strings.CutPrefix(l, "mailmon listening on "); ok {
				d.url = strings.Fields(u)[0]
				return d
			}
		case code := <-done:
			t.Fatalf("serve ended with %d:\n%s\n%s", code, d.out, d.errOut)
		case <-deadline:
			t.Fatalf("serve did not start:\n%s\n%s", d.out, d.errOut)
		}
	}
}

// target is where the test's monitors point, by type: the form's fields.
type target struct {
	forms  map[string]map[string]string
	broken map[string]string // makes the smtp monitor fail: an IMAP port
	says   string            // what the broken one's transcript shows
}

var monitorTypes = []string{"smtp", "pop3", "imap", "tcp", "ping", "pop3-roundtrip", "imap-roundtrip"}

func login(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	run(t, ctx, "log in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#logout`)),
	)
}

// fill sets a form's fields by name; "on"/"off" tick checkboxes.
func fill(values map[string]string) chromedp.Action[chromedp.Void] {
	b, _ := json.Marshal(values)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function(v){for (const k in v){const el=document.querySelector('[name="'+k+'"]'); if(!el) throw new Error("no field "+k);
		if (el.type==="checkbox") el.checked = v[k]==="on"; else el.value=v[k];} return true})(%s)`, b))
}

// workflow is the seed's workflow in the browser: add a device, add one
// monitor of each type, see them turn Up live, break one and see Warn →
// Down and its transcript, read its report and download the CSV.
func workflow(t *testing.T, d *daemon, user, pw string, tg target, shots string) {
	a := tab(t)
	login(t, a, d.url, user, pw)
	shot := func(ctx context.Context, name string) {
		if shots == "" {
			return
		}
		png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Error(err)
		}
	}
	if shots != "" {
		run(t, a, "board", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#monitors`)))
		waitFor(t, a, "the demo's states", `document.querySelectorAll('tr.row .state[data-state="pending"]').length === 0`, 30*time.Second)
		shot(a, "board-demo")
	}

	// Devices → add a device.
	run(t, a, "add a device",
		chromedp.Navigate(d.url+"/devices"),
		chromedp.SendKeys(chromedp.CSS(`#device-name`), "ui device"),
		chromedp.SendKeys(chromedp.CSS(`#device-address`), "127.0.0.1"),
		chromedp.Submit(chromedp.CSS(`#add-device`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-monitor`)),
	)
	devURL := get(t, a, "location", chromedp.Location())
	// Add New Monitor → pick the type → the sections → OK, one of each
	// type, disabled for now.
	ids := map[string]string{}
	for _, typ := range monitorTypes {
		values := map[string]string{"name": "ui-" + typ, "enabled": "off"}
		for k, v := range tg.forms[typ] {
			values[k] = v
		}
		if namesHostFile(values) {
			// A CA file is the operator's: such a monitor is set up with
			// apply on the host, then edited in the browser like the others.
			ids[typ] = operatorMonitor(t, a, d, devURL, "ui device", "127.0.0.1", typ, values)
			if typ == "imap-roundtrip" && shots != "" {
				run(t, a, "form", chromedp.Navigate(d.url+"/monitors/"+ids[typ]+"/edit"), chromedp.WaitVisible(chromedp.CSS(`#monitor-form`)))
				shot(a, "add-monitor-form")
			}
			continue
		}
		run(t, a, "add a "+typ+" monitor",
			chromedp.Navigate(devURL),
			chromedp.Click(chromedp.CSS(`#add-monitor`)),
			chromedp.WaitVisible(chromedp.CSS(`a[data-type="`+typ+`"]`)),
			chromedp.Click(chromedp.CSS(`a[data-type="`+typ+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#monitor-form`)),
			fill(values),
			chromedp.Click(chromedp.CSS(`#save-monitor`)),
			chromedp.WaitVisible(chromedp.CSS(`#current`)),
		)
		loc := get(t, a, "location", chromedp.Location())
		ids[typ] = loc[strings.LastIndex(loc, "/")+1:]
		if typ == "imap-roundtrip" && shots != "" {
			run(t, a, "form", chromedp.Navigate(loc+"/edit"), chromedp.WaitVisible(chromedp.CSS(`#monitor-form`)))
			shot(a, "add-monitor-form")
		}
	}

	// The board, filtered to them: all Disabled. It is not reloaded from
	// here on; a mark in the page proves it.
	run(t, a, "the board", chromedp.Navigate(d.url+"/?q=ui-"), chromedp.WaitVisible(chromedp.CSS(`#monitors`)),
		chromedp.Evaluate[chromedp.Void](`window.mailmonMark = 42`))
	waitFor(t, a, "every monitor disabled on the board", fmt.Sprintf(`document.querySelectorAll('tr.row .state[data-state="disabled"]').length === %d`, len(monitorTypes)), 10*time.Second)
	waitFor(t, a, "the live stream", `document.body.getAttribute("data-live") === "on"`, 10*time.Second)

	// In a second tab, enable each through its Edit form.
	b := tab(t)
	for _, typ := range monitorTypes {
		run(t, b, "enable "+typ,
			chromedp.Navigate(d.url+"/monitors/"+ids[typ]+"/edit"),
			chromedp.WaitVisible(chromedp.CSS(`#monitor-form`)),
			fill(map[string]string{"enabled": "on"}),
			chromedp.Click(chromedp.CSS(`#save-monitor`)),
			chromedp.WaitVisible(chromedp.CSS(`#current`)),
		)
	}
	states := `Array.from(document.querySelectorAll('tr.row')).map(r => r.querySelector('.mname').textContent + ':' + r.querySelector('.state').dataset.state + ' (' + r.querySelector('.c-err').textContent + ')').join(', ')`
	if !waitFor(t, a, "all Up on the board without reloading", fmt.Sprintf(`document.querySelectorAll('tr.row .state[data-state="up"]').length === %d`, len(monitorTypes)), 90*time.Second) {
		t.Errorf("the board shows %s", eval[string](t, a, "states", states))
		for _, typ := range monitorTypes {
			run(t, b, "debug", chromedp.Navigate(d.url+"/monitors/"+ids[typ]))
			t.Logf("%s: %s", typ, eval[string](t, b, "debug", `document.querySelector('main').innerText.slice(0, 600)`))
		}
		t.FailNow()
	}
	// The counts followed, without a reload.
	waitFor(t, a, "the board's counts", fmt.Sprintf(`document.querySelector('#counts a[data-state="up"] .n').textContent === "%d" && document.querySelector('#counts a[data-state="disabled"] .n').textContent === "0"`, len(monitorTypes)), 10*time.Second)
	stillThere(t, a)

	// Break the SMTP monitor (it now talks to an IMAP server) and watch
	// the board: Warn, then Down.
	// A short up_every: an edited monitor keeps its place in its interval.
	broken := map[string]string{"timing.max_duration": "2s", "timing.up_every": "5s", "timing.down_every": "1s", "notify.failures_per_alert": "2"}
	for k, v := range tg.broken {
		broken[k] = v
	}
	run(t, b, "break smtp",
		chromedp.Navigate(d.url+"/monitors/"+ids["smtp"]+"/edit"),
		chromedp.WaitVisible(chromedp.CSS(`#monitor-form`)),
		fill(broken),
		chromedp.Click(chromedp.CSS(`#save-monitor`)),
		chromedp.WaitVisible(chromedp.CSS(`#current`)),
	)
	row := `document.querySelector('tr.row[data-id="` + ids["smtp"] + `"] .state').dataset.state`
	seen := watch(t, a, row, "down", 60*time.Second)
	if !strings.Contains(strings.Join(seen, " "), "warn down") {
		t.Errorf("the board showed %v, want warn then down", seen)
	}
	stillThere(t, a)
	if shots != "" {
		shot(a, "board-live")
	}

	// Its page: the state, why, and the transcript of the failure.
	run(t, b, "the broken monitor's page",
		chromedp.Navigate(d.url+"/monitors/"+ids["smtp"]),
		chromedp.WaitVisible(chromedp.CSS(`pre.transcript`)),
	)
	transcript := get(t, b, "transcript", chromedp.Text(chromedp.CSS(`pre.transcript`)))
	current := get(t, b, "current", chromedp.Text(chromedp.CSS(`#current`)))
	// It was pointed at the IMAP server through the web UI: what a server
	// that does not speak SMTP said is withheld from the network (see
	// probe/network.go), the failure is not.
	if !strings.Contains(transcript, tg.says) || strings.Contains(transcript, "* OK") {
		t.Errorf("the transcript %q does not show %q, or shows the IMAP server's greeting", transcript, tg.says)
	}
	if !strings.Contains(current, "Down") && !strings.Contains(current, "Lost") {
		t.Errorf("the page's state: %q", current)
	}
	if shots != "" {
		shot(b, "monitor-failure-demo")
	}

	// Test now: the button tells the outcome, then the page shows it.
	run(t, b, "Test now", chromedp.Click(chromedp.CSS(`#test-now`)))
	waitFor(t, b, "the outcome of Test now", `(document.getElementById("test-result") || {textContent: ""}).textContent.startsWith("down")`, 20*time.Second)

	// Its report: the chart is drawn (once the roll-up has run).
	run(t, b, "the report", chromedp.Navigate(d.url+"/monitors/"+ids["smtp"]), chromedp.Click(chromedp.CSS(`#monitor-report`)),
		chromedp.WaitVisible(chromedp.CSS(`#report-form`)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := eval[int](t, b, "the chart", `document.querySelectorAll('#period-chart polyline, #period-chart rect.bad').length`)
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the report's chart has nothing drawn")
		}
		time.Sleep(time.Second)
		run(t, b, "reload the report", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#report-form`)))
	}
	bars := eval[int](t, b, "the availability chart", `document.querySelectorAll('#availability-chart rect.bar').length`)
	if bars != 1 {
		t.Errorf("availability chart: %d bars, want 1", bars)
	}
	if shots != "" {
		shot(b, "report-demo")
	}
	// CSV: the link's file, fetched as the browser would.
	csv := get(t, b, "the CSV", chromedp.Evaluate[string](`fetch(document.getElementById("csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(csv, "device,monitor,") || !strings.Contains(csv, "ui device,ui-smtp,") {
		t.Errorf("CSV:\n%s", csv)
	}
	if shots != "" { // the board at a phone's width
		c := tab(t)
		run(t, c, "phone board", chromedp.EmulateViewport(390, 844), chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#monitors`)))
		waitFor(t, c, "the live stream", `document.body.getAttribute("data-live") === "on"`, 10*time.Second)
		shot(c, "board-phone")
	}
}

// namesHostFile says whether a monitor's form values set a field that
// only the operator sets (a CA file: config/operator.go).
func namesHostFile(values map[string]string) bool {
	for _, f := range config.OperatorFields(reflect.TypeFor[config.Monitor]()) {
		if values[f.Path] != "" {
			return true
		}
	}
	return false
}

// operatorMonitor sets a monitor up as the operator does on the host:
// "mailmon apply -f" with the form's values as YAML. It returns the
// monitor's id, read from the device's page.
func operatorMonitor(t *testing.T, ctx context.Context, d *daemon, devURL, device, address, typ string, values map[string]string) string {
	t.Helper()
	m := map[string]any{"type": typ}
	for k, v := range values {
		var x any = v
		if n, err := strconv.Atoi(v); err == nil {
			x = n
		} else if v == "on" || v == "off" {
			x = v == "on"
		}
		parts := strings.Split(k, ".")
		at := m
		for _, p := range parts[:len(parts)-1] {
			if at[p] == nil {
				at[p] = map[string]any{}
			}
			at = at[p].(map[string]any)
		}
		at[parts[len(parts)-1]] = x
	}
	b, err := yaml.Marshal(map[string]any{"devices": []any{map[string]any{"name": device, "address": address, "monitors": []any{m}}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "monitor.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := cli.Main(context.Background(), []string{"apply", "-f", file, "--db", d.db},
		cli.Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("apply: %d %s\n%s", code, out.String(), b)
	}
	run(t, ctx, "the device's page", chromedp.Navigate(devURL), chromedp.WaitVisible(chromedp.CSS(`#add-monitor`)))
	href := eval[string](t, ctx, "the monitor's link", fmt.Sprintf(`(Array.from(document.querySelectorAll('a.mname')).find(a => a.textContent === %q) || {getAttribute: () => ""}).getAttribute("href")`, values["name"]))
	id, ok := strings.CutPrefix(href, "/monitors/")
	if !ok {
		t.Fatalf("the applied monitor %s is not on its device's page", values["name"])
	}
	return id
}

// stillThere fails when the tab's page was reloaded (its mark is gone).
func stillThere(t *testing.T, ctx context.Context) {
	t.Helper()
	mark := eval[int](t, ctx, "the mark", `window.mailmonMark || 0`)
	if mark != 42 {
		t.Fatal("the board was reloaded")
	}
}

// waitFor polls a JavaScript condition in the page; it fails the test
// (and returns false) when the condition does not come true in time.
func waitFor(t *testing.T, ctx context.Context, what, cond string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok := eval[bool](t, ctx, what, cond)
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: not within %v", what, within)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watch polls a JavaScript value until it is want, and returns the
// values it took, each change once.
func watch(t *testing.T, ctx context.Context, expr, want string, within time.Duration) []string {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(within)
	for {
		v := eval[string](t, ctx, "watch", expr)
		if len(seen) == 0 || seen[len(seen)-1] != v {
			seen = append(seen, v)
		}
		if v == want {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: saw %v, never %q", expr, seen, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// demoSettings reads the demo monitors' ports and CA from the API.
func demoSettings(t *testing.T, url, token string) (smtp, imap, pop3 int, ca string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/v1/monitors?limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Items []struct {
			Name     string `json:"name"`
			Settings struct {
				Port int    `json:"port"`
				CA   string `json:"ca"`
			} `json:"settings"`
		} `json:"items"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, m := range out.Items {
		switch m.Name {
		case "TCP 25":
			smtp = m.Settings.Port
		case "IMAP login":
			imap, ca = m.Settings.Port, m.Settings.CA
		case "POP3 login":
			pop3 = m.Settings.Port
		}
	}
	if smtp == 0 || imap == 0 || pop3 == 0 || ca == "" {
		t.Fatalf("demo settings not found: %s", body)
	}
	return
}

func TestDemoWorkflow(t *testing.T) {
	skipWithoutChromium(t)
	d := serve(t, t.TempDir(), "--demo", "--min-interval", "1s") // the broken monitor's down_every
	out := d.out.String()
	pw := regexp.MustCompile(`as user "admin" with password ([0-9a-f]+)`).FindStringSubmatch(out)
	mailPW := regexp.MustCompile(`have the password ([0-9a-f]+)`).FindStringSubmatch(out)
	token := regexp.MustCompile(`API token \(shown once\): (mm_[0-9a-f]+)`).FindStringSubmatch(out)
	if pw == nil || mailPW == nil || token == nil {
		t.Fatalf("serve --demo printed:\n%s", out)
	}
	smtp, imap, pop3, ca := demoSettings(t, d.url, token[1])
	p := func(n int) string { return fmt.Sprint(n) }
	const imapUser, popUser = "imap@demo.mailmon.test", "pop@demo.mailmon.test"
	tg := target{
		forms: map[string]map[string]string{
			"smtp": {"port": p(smtp), "tls": "starttls", "ca": ca},
			"pop3": {"port": p(pop3), "tls": "starttls", "ca": ca, "user": popUser, "password": mailPW[1]},
			"imap": {"port": p(imap), "tls": "starttls", "ca": ca, "user": imapUser, "password": mailPW[1]},
			"tcp":  {"port": p(smtp)},
			"ping": {},
			"pop3-roundtrip": {"port": p(pop3), "tls": "starttls", "ca": ca, "user": popUser, "password": mailPW[1],
				"smtp.port": p(smtp), "smtp.tls": "starttls", "smtp.ca": ca, "from": "monitor@demo.mailmon.test", "to": popUser, "poll_interval": "1s",
				"timing.max_duration": "20s"},
			"imap-roundtrip": {"port": p(imap), "tls": "starttls", "ca": ca, "user": imapUser, "password": mailPW[1],
				"smtp.port": p(smtp), "smtp.tls": "starttls", "smtp.ca": ca, "from": "monitor@demo.mailmon.test", "to": imapUser,
				"timing.max_duration": "20s"},
		},
		broken: map[string]string{"port": p(imap), "tls": "none"},
		says:   "withheld: the target was configured over the network",
	}
	workflow(t, d, "admin", pw[1], tg, os.Getenv("MAILMON_SCREENSHOTS"))
}

func TestRealMailWorkflow(t *testing.T) {
	skipWithoutChromium(t)
	e := realmail.Start(t)
	dir := t.TempDir()
	// The first login, as a new user makes it: mailmon user add.
	const pw = "browser-test-password"
	var out strings.Builder
	if code := cli.Main(context.Background(), []string{"user", "add", "admin", "--db", filepath.Join(dir, "mailmon.db")},
		cli.Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Stdin: strings.NewReader(pw + "\n")}); code != 0 {
		t.Fatalf("user add: %d %s", code, out.String())
	}
	// Monitors added in the browser test the servers on loopback, the
	// broken one every second.
	d := serve(t, dir, "--allow-targets", "127.0.0.1/32", "--min-interval", "1s")
	p := func(n int) string { return fmt.Sprint(n) }
	tg := target{
		forms: map[string]map[string]string{
			"smtp": {"port": p(e.SMTP), "tls": "starttls", "ca": e.CAFile},
			"pop3": {"port": p(e.POP3), "tls": "starttls", "ca": e.CAFile, "user": e.User, "password": e.Password},
			"imap": {"port": p(e.IMAPS), "tls": "implicit", "ca": e.CAFile, "user": e.User, "password": e.Password},
			"tcp":  {"port": p(e.SMTP), "expect": "220 "},
			"ping": {},
			"pop3-roundtrip": {"port": p(e.POP3S), "tls": "implicit", "ca": e.CAFile, "user": e.User, "password": e.Password,
				"smtp.port": p(e.SMTP), "smtp.tls": "starttls", "smtp.ca": e.CAFile, "from": e.User2, "to": e.User, "poll_interval": "1s"},
			"imap-roundtrip": {"port": p(e.IMAP), "tls": "starttls", "ca": e.CAFile, "user": e.User, "password": e.Password,
				"smtp.port": p(e.Submission), "smtp.tls": "starttls", "smtp.ca": e.CAFile, "smtp.user": e.User, "smtp.password": e.Password,
				"from": e.User, "to": e.User},
		},
		broken: map[string]string{"port": p(e.IMAP), "tls": "none"},
		says:   "withheld: the target was configured over the network",
	}
	workflow(t, d, "admin", pw, tg, "")
}
