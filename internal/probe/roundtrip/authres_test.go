package roundtrip

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
)

// TestReadAuthResults reads RFC 8601's own examples (Appendix B) and the
// quoting, comments and header choice the hand-written parser got wrong.
func TestReadAuthResults(t *testing.T) {
	tests := []struct {
		name   string
		values []string // the headers, top first
		id     string
		servID string
		want   map[string]string // nil: no results
		judged map[string]string
	}{
		{name: "B.2: service provided, no authentication done", values: []string{"example.org 1; none"},
			servID: "example.org"},
		{name: "B.3: one authentication done", values: []string{"example.com; spf=pass smtp.mailfrom=example.net"},
			servID: "example.com", want: map[string]string{"spf": "pass"}, judged: map[string]string{"spf": "example.net"}},
		{name: "B.4: several authentications, one MTA",
			values: []string{"example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n          spf=pass smtp.mailfrom=example.net",
				"example.com; iprev=pass\r\n          policy.iprev=192.0.2.200"},
			servID: "example.com", want: map[string]string{"auth": "pass", "spf": "pass"}},
		{name: "B.5: several authentications, different MTAs: the top header only",
			values: []string{"example.com;\r\n          dkim=pass (good signature) header.d=example.com",
				"example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.com;\r\n          spf=fail smtp.mailfrom=example.com"},
			servID: "example.com", want: map[string]string{"dkim": "pass"}, judged: map[string]string{"dkim": "example.com"}},
		{name: "B.6: multi-tiered, quoted reasons",
			values: []string{"example.com;\r\n    dkim=pass reason=\"good signature\"\r\n      header.i=@mail-router.example.net;\r\n    dkim=fail reason=\"bad signature\"\r\n      header.i=@newyork.example.com",
				"mail-router.example.net;\r\n    dkim=pass (good signature) header.d=newyork.example.com\r\n      header.b=oINEO8hg;\r\n    dkim=fail (bad signature) header.d=mail-router.example.net\r\n      header.b=EToRSuvU"},
			servID: "example.com", want: map[string]string{"dkim": "pass"}, judged: map[string]string{"dkim": "mail-router.example.net"}},
		{name: "B.6: the inner header, named by its authserv-id",
			values: []string{"example.com;\r\n    dkim=pass reason=\"good signature\"\r\n      header.i=@mail-router.example.net",
				"mail-router.example.net;\r\n    dkim=fail (bad signature) header.d=mail-router.example.net\r\n      header.b=EToRSuvU"},
			id: "Mail-Router.example.net", servID: "mail-router.example.net", want: map[string]string{"dkim": "fail"}},
		{name: "B.7: comments everywhere, a method version, spaces around operators",
			values: []string{"foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n      policy (A dot can go here) . (like that) expired\r\n      (this surprised me) = (as I wasn't expecting it) 1362471462"},
			servID: "foo.example.net", want: map[string]string{"dkim": "fail"}},
		{name: "semicolons in a comment and in a quoted string",
			values: []string{"mx.example.test;\r\n spf=pass (sender SPF authorized; really) smtp.mailfrom=a@example.test;\r\n dkim=fail reason=\"bad; sig\" header.d=example.test; dmarc=pass (p=none; dis=none) header.from=example.test"},
			servID: "mx.example.test", want: map[string]string{"spf": "pass", "dkim": "fail", "dmarc": "pass"},
			judged: map[string]string{"spf": "a@example.test", "dkim": "example.test", "dmarc": "example.test"}},
		{name: "nested comments and quoted pairs", values: []string{`mx.example.test (a (nested \) one) here); dmarc=fail (p=reject \(really\)) header.from=example.test`},
			servID: "mx.example.test", want: map[string]string{"dmarc": "fail"}, judged: map[string]string{"dmarc": "example.test"}},
		{name: "a quoted authserv-id", values: []string{`"mx.example.test"; spf=softfail`},
			servID: "mx.example.test", want: map[string]string{"spf": "softfail"}},
		{name: "unknown methods and upper case", values: []string{"mx.example.test; X-Custom=PASS; BIMI=Fail header.d=example.test; DMARC=Pass"},
			servID: "mx.example.test", want: map[string]string{"x-custom": "pass", "bimi": "fail", "dmarc": "pass"}},
		{name: "the header of the named server, below a forged one",
			values: []string{"mx.example.test; dmarc=pass", "mx.example.test; dmarc=fail", "other.example; dmarc=pass"},
			id:     "mx.example.test", servID: "mx.example.test", want: map[string]string{"dmarc": "pass"}},
		{name: "a sender's forged header above the receiving server's",
			values: []string{"forger.example; dmarc=pass; spf=pass", "mx.example.test; dmarc=fail"},
			id:     "mx.example.test", servID: "mx.example.test", want: map[string]string{"dmarc": "fail"}},
		{name: "no header of the named server", values: []string{"forger.example; dmarc=pass"}, id: "mx.example.test"},
		{name: "no header at all"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ar := ReadAuthResults(tc.values, tc.id)
			if tc.servID == "" {
				if ar != nil {
					t.Fatalf("got %+v, want none", ar)
				}
				return
			}
			if ar == nil {
				t.Fatal("got none")
			}
			if ar.ServID != tc.servID || ar.Unparseable != "" || !maps.Equal(ar.Results, tc.want) {
				t.Errorf("got %q %v (unparseable %q), want %q %v", ar.ServID, ar.Results, ar.Unparseable, tc.servID, tc.want)
			}
			for m, d := range tc.judged {
				if ar.Judged[m] != d {
					t.Errorf("%s judged %q, want %q", m, ar.Judged[m], d)
				}
			}
		})
	}
}

// TestReadAuthResultsCaps: a header the library refuses is recorded, not
// fatal; what a server writes is sanitised and cut to size.
func TestReadAuthResultsCaps(t *testing.T) {
	ar := ReadAuthResults([]string{"mx.example.test 2; spf=pass"}, "")
	if ar == nil || ar.Results != nil || !strings.Contains(ar.Unparseable, "mx.example.test 2") || ar.ServID != "mx.example.test" {
		t.Errorf("an unsupported version: %+v", ar)
	}
	ar = ReadAuthResults([]string{"mx.example.test; spf"}, "")
	if ar == nil || ar.Unparseable == "" {
		t.Errorf("a method without a result: %+v", ar)
	}
	var many []string
	for i := range 40 {
		many = append(many, "m"+strings.Repeat("x", i)+"=pass")
	}
	ar = ReadAuthResults([]string{"mx; " + strings.Join(many, "; ")}, "")
	if len(ar.Results) != maxAuthMethods {
		t.Errorf("%d methods kept, want %d", len(ar.Results), maxAuthMethods)
	}
	ar = ReadAuthResults([]string{"mx; dkim=\x1b[31m" + strings.Repeat("f", 100) + " header.d=" + strings.Repeat("d", 500)}, "")
	for m, v := range ar.Results {
		if len(m) > maxAuthValue+3 || len(v) > maxAuthValue+3 || strings.ContainsRune(v, 0x1b) {
			t.Errorf("not sanitised or cut: %q=%q", m, v)
		}
	}
	if ar.Results["dkim"] == "" || len(ar.Judged["dkim"]) > maxAuthJudged+3 {
		t.Errorf("dkim %q, judged %d bytes", ar.Results["dkim"], len(ar.Judged["dkim"]))
	}
	ar = ReadAuthResults([]string{"mx 9; " + strings.Repeat("x", 10000)}, "")
	if len(ar.Unparseable) > maxAuthShown+3 {
		t.Errorf("unparseable not cut: %d bytes", len(ar.Unparseable))
	}
}

func TestJudgeAuth(t *testing.T) {
	ar := ReadAuthResults([]string{"mx.example.com; spf=pass smtp.mailfrom=probe@example.com; dkim=pass header.d=example.com; dmarc=fail header.from=example.com; arc=fail"}, "")
	pass := ReadAuthResults([]string{"mx.example.com; spf=pass; dkim=pass; dmarc=pass; arc=fail"}, "")
	tests := []struct {
		name    string
		cfg     probe.Config
		ar      *AuthResults
		warn    bool
		down    bool
		message string
	}{
		{name: "dmarc fail warns", cfg: probe.Config{AuthResults: AuthWarn}, ar: ar, warn: true,
			message: "DMARC fail at mx.example.com: the probe's From domain is not aligned with a passing SPF or DKIM - fix SPF or DKIM for example.com"},
		{name: "dmarc fail, down", cfg: probe.Config{AuthResults: AuthDown}, ar: ar, down: true, message: "DMARC fail at mx.example.com"},
		{name: "ignored", cfg: probe.Config{AuthResults: AuthIgnore}, ar: ar},
		{name: "all pass", cfg: probe.Config{AuthResults: AuthWarn}, ar: pass},
		{name: "no header", cfg: probe.Config{AuthResults: AuthWarn}},
		{name: "only the methods named", cfg: probe.Config{AuthResults: AuthWarn, AuthResultsMethods: []string{"spf", "dkim"}}, ar: ar},
		{name: "another method named", cfg: probe.Config{AuthResults: AuthWarn, AuthResultsMethods: []string{"ARC"}}, ar: pass, warn: true, message: "ARC fail at mx.example.com"},
		{name: "spf softfail names the domain of the envelope sender", cfg: probe.Config{AuthResults: AuthWarn, From: "p@from.example"},
			ar: ReadAuthResults([]string{"mx.example.com; spf=softfail smtp.mailfrom=p@bounce.example"}, ""), warn: true,
			message: "SPF softfail at mx.example.com: the sending server is not authorised by the SPF record of bounce.example"},
		{name: "dkim none falls back to the From domain", cfg: probe.Config{AuthResults: AuthWarn, From: "p@from.example"},
			ar: ReadAuthResults([]string{"mx.example.com; dkim=none"}, ""), warn: true,
			message: "DKIM none at mx.example.com: the probe carries no valid DKIM signature of from.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := judgeAuth(&tc.cfg, tc.ar)
			var w *probe.Warning
			var ce *probe.CodeError
			switch {
			case tc.warn:
				if !errors.As(err, &w) || w.Code != probe.AuthResultsFailed {
					t.Fatalf("got %v, want an auth_results Warning", err)
				}
			case tc.down:
				if !errors.As(err, &ce) || ce.Code != probe.AuthResultsFailed {
					t.Fatalf("got %v, want an auth_results failure", err)
				}
			default:
				if err != nil {
					t.Fatalf("got %v, want none", err)
				}
				return
			}
			if !strings.HasPrefix(err.Error(), tc.message) {
				t.Errorf("message %q, want it to start %q", err, tc.message)
			}
		})
	}
}

func TestCheckAuth(t *testing.T) {
	tests := []struct {
		cfg   probe.Config
		field string
	}{
		{probe.Config{}, ""},
		{probe.Config{AuthResults: "down", AuthResultsID: "mx.example.com", AuthResultsMethods: []string{"dkim", "arc", "x-custom"}}, ""},
		{probe.Config{AuthResults: "critical"}, "auth_results"},
		{probe.Config{AuthResultsID: "mx.example.com; spf=pass"}, "auth_results_id"},
		{probe.Config{AuthResultsMethods: []string{"dkim", ""}}, "auth_results_methods"},
		{probe.Config{AuthResultsMethods: []string{"dmarc=pass"}}, "auth_results_methods"},
	}
	for _, tc := range tests {
		var got []string
		checkAuth(&tc.cfg, func(field, format string, args ...any) { got = append(got, field) })
		if tc.field == "" && len(got) > 0 || tc.field != "" && (len(got) != 1 || got[0] != tc.field) {
			t.Errorf("%+v: complaints about %v, want %q", tc.cfg, got, tc.field)
		}
		if tc.cfg.AuthResults == "" {
			t.Errorf("%+v: no default policy", tc.cfg)
		}
	}
}

// FuzzReadAuthResults: whatever a server writes, reading it never panics
// and stays within the caps.
func FuzzReadAuthResults(f *testing.F) {
	f.Add("mx.example.test; spf=pass (a; b) smtp.mailfrom=a@example.test; dkim=fail reason=\"x; y\"", "")
	f.Add("foo.example.net (foobar) 1 (baz); dkim (x) / 1 (y) = (z) fail", "foo.example.net")
	f.Add("a; spf=pass (((; dkim", "a")
	f.Add("\"\\", "")
	f.Fuzz(func(t *testing.T, v, id string) {
		ar := ReadAuthResults([]string{v, v}, id)
		if ar == nil {
			return
		}
		if len(ar.Results) > maxAuthMethods || len(ar.Unparseable) > maxAuthShown+3 || len(ar.ServID) > maxAuthJudged+3 {
			t.Fatalf("over the caps: %+v", ar)
		}
		for m, r := range ar.Results {
			if len(m) > maxAuthValue+3 || len(r) > maxAuthValue+3 || len(ar.Judged[m]) > maxAuthJudged+3 {
				t.Fatalf("over the caps: %q=%q", m, r)
			}
		}
	})
}
