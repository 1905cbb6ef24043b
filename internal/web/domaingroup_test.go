package web

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// domainBoard is a board with the domain-health monitors of example.test
// (on its MX host's device, with and without a "domain"), one of
// example.com, and an SMTP monitor; the SPF one found two things.
func domainBoard(t *testing.T, f *fixture) (mx, other *store.Device) {
	t.Helper()
	ctx := context.Background()
	mx, err := f.saveDevice(ctx, 0, "mx1", "mx1.example.test")
	if err != nil {
		t.Fatal(err)
	}
	other, err = f.saveDevice(ctx, 0, "relay", "relay.example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	add := func(dev int64, name, typ, spec string, st state.State, res *probe.Result) {
		t.Helper()
		m := &store.Monitor{DeviceID: dev, Name: name, Type: typ, Enabled: true, Spec: []byte(spec)}
		if err := f.st.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		if res == nil {
			res = &probe.Result{Type: typ, Status: probe.StatusUp, Started: now}
		}
		if err := f.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: now, Status: res.Status},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st, Since: now}, LastResult: res, LastTest: now}}); err != nil {
			t.Fatal(err)
		}
	}
	spf := &probe.Result{Type: "spf", Status: probe.StatusDown, Started: now,
		Error: &probe.Error{Code: "record_invalid", Message: "The SPF record needs 12 DNS lookups; receivers stop at 10."},
		Details: map[string]any{"findings": []any{
			map[string]any{"code": "record_invalid", "down": true, "message": "The SPF record needs 12 DNS lookups; receivers stop at 10."},
			map[string]any{"code": "policy_mismatch", "down": false, "message": "The record ends in ?all: forged mail is not refused."},
		}}}
	add(mx.ID, "SPF", "spf", `{"domain":"example.test"}`, state.Down, spf)
	add(mx.ID, "DMARC", "dmarc", `{"domain":"example.test"}`, state.Up, nil)
	add(mx.ID, "Blocklists", "dnsbl", `{}`, state.Up, nil) // the MX host's domain
	add(mx.ID, "SMTP", "smtp", `{"port":25}`, state.Up, nil)
	add(other.ID, "Reverse DNS", "rdns", `{}`, state.Warn, &probe.Result{Type: "rdns", Status: probe.StatusWarn, Started: now,
		Error: &probe.Error{Code: "policy_mismatch", Message: "The PTR name does not resolve back to the address."}})
	add(other.ID, "DKIM", "dkim", `{"domain":"example.test","selectors":["s1"]}`, state.Up, nil)
	return mx, other
}

// domainRows are a page's rows under a domain heading, by heading.
var (
	domainHeadRE = regexp.MustCompile(`<tr class="domain-head st-(\w+)" id="(dg-\d+)">[\s\S]*?aria-controls="([^"]*)"[\s\S]*?</button>`)
	memberRE     = regexp.MustCompile(`class="mname">([^<]+)</a>`)
)

func TestDomainGroupsOnTheBoard(t *testing.T) {
	f := newFixture(t, false)
	mx, _ := domainBoard(t, f)
	b := f.loggedIn(t)
	for _, c := range []struct{ path, name string }{{"/", "board"}, {"/?group=device", "board by device"}} {
		_, body := b.get(t, c.path)
		heads := domainHeadRE.FindAllStringSubmatch(body, -1)
		if c.name == "board" {
			// example.test: SPF, DMARC, the MX host's blocklist and the
			// relay's DKIM together, worst of them Down; example.com has
			// one monitor: no heading.
			if len(heads) != 1 || heads[0][1] != "down" {
				t.Fatalf("%s: headings %q", c.name, heads)
			}
		} else if len(heads) != 1 { // the relay's DKIM and rDNS are of two domains
			t.Fatalf("%s: headings %q", c.name, heads)
		}
		h := heads[0]
		i := strings.Index(body, h[0])
		if !strings.Contains(body[i:], `example.test</button>`) || !strings.Contains(body[i:], `href="/?domain=example.test"`) {
			t.Errorf("%s: heading without its domain or link: %s", c.name, body[i:i+900])
		}
		// The heading tells the findings (its hover text) and the summary.
		sum := "1 down, 3 up"
		if c.name != "board" {
			sum = "1 down, 2 up"
		}
		if !strings.Contains(body[i:], "SPF: The SPF record needs 12 DNS lookups") || !strings.Contains(body[i:], sum) {
			t.Errorf("%s: heading without the findings or summary: %s", c.name, body[i:i+1200])
		}
		// Its rows follow it, each naming it, and aria-controls names them.
		var members []string
		for _, id := range strings.Fields(h[3]) {
			j := strings.Index(body, `id="`+id+`"`)
			if j < i {
				t.Fatalf("%s: member %s not after its heading", c.name, id)
			}
			row := body[strings.LastIndex(body[:j], "<tr"):]
			row = row[:strings.Index(row, "</tr>")]
			if !strings.Contains(row, `data-member="`+h[2]+`"`) {
				t.Errorf("%s: row %s without data-member", c.name, id)
			}
			members = append(members, memberRE.FindStringSubmatch(row)[1])
		}
		// Worst first, by name within a state.
		want := "SPF Blocklists DKIM DMARC"
		if c.name != "board" {
			want = "SPF Blocklists DMARC" // the relay's DKIM is under its own device
		}
		if got := strings.Join(members, " "); got != want {
			t.Errorf("%s: members %q, want %q", c.name, got, want)
		}
		// Each of the SPF test's findings is on its row.
		if !strings.Contains(body, "<li>policy_mismatch: The record ends in ?all: forged mail is not refused.</li>") {
			t.Errorf("%s: the SPF row does not list its findings", c.name)
		}
	}

	// The device page groups likewise: its own three, under example.test.
	_, body := b.get(t, "/devices/"+strconv.FormatInt(mx.ID, 10))
	heads := domainHeadRE.FindAllStringSubmatch(body, -1)
	if len(heads) != 1 || heads[0][1] != "down" || len(strings.Fields(heads[0][3])) != 3 {
		t.Errorf("device page: headings %q", heads)
	}
	if !regexp.MustCompile(`<tr data-id="\d+" class="row st-up">\s*<td[^>]*>.*\s*<td data-label="Monitor"><a href="/monitors/\d+" class="mname">SMTP</a>`).MatchString(body) {
		t.Errorf("device page: the SMTP row is not a row of its own")
	}
}

func TestBoardFilterByDomain(t *testing.T) {
	f := newFixture(t, false)
	domainBoard(t, f)
	b := f.loggedIn(t)
	names := func(path string) string {
		t.Helper()
		_, body := b.get(t, path)
		var out []string
		for _, m := range memberRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, ", ")
	}
	for path, want := range map[string]string{
		"/?domain=example.test":           "SPF, Blocklists, DKIM, DMARC",
		"/?domain=EXAMPLE.test.":          "SPF, Blocklists, DKIM, DMARC",
		"/?domain=example.com":            "Reverse DNS",
		"/?domain=example.test&state=up":  "Blocklists, DKIM, DMARC",
		"/?domain=example.org":            "",
		"/?domain=example.test&q=d":       "DKIM, DMARC",
		"/?domain=example.test&type=spf":  "SPF",
		"/?domain=mx1.example.test":       "",
		"/?domain=example.test&type=smtp": "",
	} {
		if got := names(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	// The filter is kept by the counts' links and shown in the form.
	_, body := b.get(t, "/?domain=example.test")
	if !strings.Contains(body, `href="/?domain=example.test&amp;state=down"`) || !strings.Contains(body, `name="domain" value="example.test"`) {
		t.Errorf("the counts' links or the form lose the domain")
	}
	if !strings.Contains(body, `<span class="n">4</span> all`) {
		t.Errorf("the counts are not the domain's")
	}
}

// TestDomainHeadingsUnique: grouped by device, a domain on two devices has
// a heading in each, each with its own id and rows.
func TestDomainHeadingsUnique(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	for _, name := range []string{"mx1", "mx2"} {
		d, err := f.saveDevice(ctx, 0, name, name+".example.test")
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"spf", "dmarc"} {
			if err := f.st.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: typ, Type: typ, Enabled: true, Spec: []byte(`{"domain":"example.test"}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, body := f.loggedIn(t).get(t, "/?group=device")
	heads := domainHeadRE.FindAllStringSubmatch(body, -1)
	if len(heads) != 2 || heads[0][2] == heads[1][2] || heads[0][3] == heads[1][3] {
		t.Fatalf("headings %q, want two, each its own", heads)
	}
	for _, h := range heads {
		if n := strings.Count(body, `data-member="`+h[2]+`"`); n != 2 {
			t.Errorf("heading %s has %d rows, want 2", h[2], n)
		}
	}
}
