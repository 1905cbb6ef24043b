package alert

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/testutil/fakedns"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

// channelCase is a service tested against a local endpoint that checks
// the request as the service's API defines it.
type channelCase struct {
	url    string // %s: the local server's host:port
	tls    bool   // the service speaks https only
	answer string
	check  func(t *testing.T, r *http.Request, body []byte)
}

// jsonBody decodes a request's JSON body strictly into v.
func jsonBody(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		t.Errorf("body %s: %v", body, err)
	}
}

var channelCases = map[string]channelCase{
	// https://docs.ntfy.sh/publish/: POST /TOPIC, the text as the body,
	// Title, Priority (1-5), Tags, Click headers; Basic auth.
	"ntfy": {url: "ntfy://alice:n7fy-pa55word@%s/mailmon-topic-7f3a?scheme=http",
		answer: `{"id":"x1","time":1700000000,"event":"message","topic":"mailmon-topic-7f3a"}`,
		check: func(t *testing.T, r *http.Request, body []byte) {
			user, pw, _ := r.BasicAuth()
			if r.URL.Path != "/mailmon-topic-7f3a" || user != "alice" || pw != "n7fy-pa55word" {
				t.Errorf("ntfy: %s %s as %q/%q", r.Method, r.URL.Path, user, pw)
			}
			if r.Header.Get("Title") != Summary(ev) || !slices.Contains([]string{"5", "max", "urgent"}, strings.ToLower(r.Header.Get("Priority"))) || r.Header.Get("Tags") != "rotating_light" ||
				r.Header.Get("Click") != ev.URL {
				t.Errorf("ntfy headers: %v", r.Header)
			}
			if !strings.Contains(string(body), "auth_failed: The server rejected the credentials") {
				t.Errorf("ntfy body: %s", body)
			}
		}},
	// https://gotify.net/api-docs: POST /message?token=APPTOKEN
	// {title, message, priority}.
	"gotify": {url: "gotify://%s/AgotifyT0ken.xy?disabletls=yes",
		answer: `{"id":1,"appid":1,"message":"m","title":"t","priority":8,"date":"2026-11-22T01:02:03Z"}`,
		check: func(t *testing.T, r *http.Request, body []byte) {
			if r.URL.Path != "/message" || r.URL.Query().Get("token") != "AgotifyT0ken.xy" {
				t.Errorf("gotify: %s %s", r.Method, r.URL)
			}
			var m struct {
				Title    string         `json:"title"`
				Message  string         `json:"message"`
				Priority int            `json:"priority"`
				Extras   map[string]any `json:"extras"`
			}
			jsonBody(t, body, &m)
			if m.Title != Summary(ev) || m.Priority != 8 || !strings.Contains(m.Message, "auth_failed") {
				t.Errorf("gotify message: %+v", m)
			}
		}},
	// Mattermost's incoming webhooks: POST /hooks/KEY {text}.
	"mattermost": {url: "mattermost://%s/m4ttermostHookKey?disabletls=yes", answer: "ok",
		check: func(t *testing.T, r *http.Request, body []byte) {
			if r.URL.Path != "/hooks/m4ttermostHookKey" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("mattermost: %s %s %v", r.Method, r.URL, r.Header)
			}
			var m struct {
				Text string `json:"text"`
			}
			jsonBody(t, body, &m)
			if !strings.HasPrefix(m.Text, Summary(ev)+"\n") || !strings.Contains(m.Text, "auth_failed") {
				t.Errorf("mattermost text: %q", m.Text)
			}
		}},
	// Rocket.Chat's incoming webhooks (https only): POST
	// /hooks/TOKEN_A/TOKEN_B {text, channel}.
	"rocketchat": {url: "rocketchat://%s/rocketTokenA/rocketTokenB/ops", tls: true, answer: `{"success":true}`,
		check: func(t *testing.T, r *http.Request, body []byte) {
			if r.URL.Path != "/hooks/rocketTokenA/rocketTokenB" {
				t.Errorf("rocketchat: %s %s", r.Method, r.URL)
			}
			var m struct {
				Text    string `json:"text"`
				Channel string `json:"channel"`
			}
			jsonBody(t, body, &m)
			if m.Channel != "#ops" || !strings.HasPrefix(m.Text, Summary(ev)+"\n") {
				t.Errorf("rocketchat message: %+v", m)
			}
		}},
}

// TestChannelServices: each service whose host can be given posts the
// alert to a local endpoint as its API defines (path, auth, body fields),
// with the title, text and priority mapped from the event.
func TestChannelServices(t *testing.T) {
	for name, tc := range channelCases {
		t.Run(name, func(t *testing.T) {
			var got atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost {
					t.Errorf("method %s", r.Method)
				}
				tc.check(t, r, body)
				got.Add(1)
				io.WriteString(w, tc.answer)
			})
			srv := httptest.NewUnstartedServer(h)
			p := poster{}
			if tc.tls {
				srv.StartTLS()
				p.tlsConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			u := strings.Replace(tc.url, "%s", srv.Listener.Addr().String(), 1)
			if s, err := config.CheckChannelURL(u); err != nil || s != name {
				t.Fatalf("CheckChannelURL = %q, %v", s, err)
			}
			c := &Channel{URL: u, poster: p}
			if err := c.Notify(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if got.Load() != 1 {
				t.Errorf("%d requests, want 1", got.Load())
			}
		})
	}
	for _, s := range config.ChannelServices {
		if _, ok := channelCases[s]; !ok && !slices.Contains([]string{"discord", "pushover"}, s) {
			t.Errorf("the offered service %s has no local test", s)
		}
	}
}

// TestChannelEgress: every offered service makes its requests through
// mailmon's client, held to the egress policy. Those whose host can be
// given are pointed at a loopback server; discord and pushover have fixed
// hosts, resolved here to 127.0.0.1 by a fake DNS server. The policy
// refuses each; nothing reaches the server; the error is permanent.
func TestChannelEgress(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(srv.Close)
	ns := fakedns.Start(t, func(name string) []dns.RR {
		return []dns.RR{fakedns.RR(t, name+" 60 IN A 127.0.0.1")}
	})
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ns)
	}}
	urls := map[string]string{
		"discord":  "discord://d1scordT0ken@123456789012345678",
		"pushover": "pushover://shoutrrr:pushoverApiT0ken@pushoverUserKey/",
	}
	for name, tc := range channelCases {
		urls[name] = strings.Replace(tc.url, "%s", srv.Listener.Addr().String(), 1)
	}
	for _, s := range config.ChannelServices {
		t.Run(s, func(t *testing.T) {
			u, ok := urls[s]
			if !ok {
				t.Fatalf("no URL for the offered service %s", s)
			}
			c := &Channel{URL: u, poster: poster{What: s, Egress: egress.Default(), Resolver: res}}
			err := c.Notify(context.Background(), ev)
			var perm *Permanent
			if err == nil || !errors.As(err, &perm) || !strings.Contains(err.Error(), egress.Flag) {
				t.Errorf("Notify = %v, want a permanent refusal by the egress policy", err)
			}
			nosecret.Check(t, "the error", err.Error(), channelSecrets(u))
		})
	}
	if reached.Load() != 0 {
		t.Errorf("the server was reached %d times", reached.Load())
	}
}

// channelSecrets are the secret parts of the test URLs.
func channelSecrets(u string) []string {
	var out []string
	for _, s := range []string{"n7fy-pa55word", "mailmon-topic-7f3a", "AgotifyT0ken.xy", "m4ttermostHookKey", "rocketTokenA", "rocketTokenB",
		"d1scordT0ken", "pushoverApiT0ken", "pushoverUserKey"} {
		if strings.Contains(u, s) {
			out = append(out, s)
		}
	}
	return append(out, u)
}

// TestChannelErrorsRedacted: a failing endpoint's error (a 500 whose body
// echoes the token, a 404, a closed port) names no part of the URL; a 4xx
// is permanent, a 5xx worth a retry.
func TestChannelErrorsRedacted(t *testing.T) {
	status := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"bad token `+r.URL.String()+`"}`)
	}))
	t.Cleanup(srv.Close)
	for name, tc := range channelCases {
		if tc.tls {
			continue
		}
		u := strings.Replace(tc.url, "%s", srv.Listener.Addr().String(), 1)
		for _, st := range []int{http.StatusInternalServerError, http.StatusNotFound} {
			status = st
			err := (&Channel{URL: u}).Notify(context.Background(), ev)
			if err == nil {
				t.Fatalf("%s %d: no error", name, st)
			}
			var perm *Permanent
			if errors.As(err, &perm) != (st < 500) {
				t.Errorf("%s %d: permanent %v: %v", name, st, errors.As(err, &perm), err)
			}
			nosecret.Check(t, name+" error", err.Error(), channelSecrets(u))
		}
	}
	bad := strings.Replace(channelCases["gotify"].url, "AgotifyT0ken.xy", "Bs3cretBotT0ken", 1) // not a gotify token
	err := (&Channel{URL: bad}).Notify(context.Background(), ev)
	var perm *Permanent
	if !errors.As(err, &perm) {
		t.Errorf("a token the service refuses before sending: %v, want a permanent error", err)
	}
	closed := strings.Replace(channelCases["gotify"].url, "%s", "127.0.0.1:1", 1)
	err = (&Channel{URL: closed}).Notify(context.Background(), ev)
	if err == nil {
		t.Fatal("a closed port: no error")
	}
	nosecret.Check(t, "closed port error", err.Error(), channelSecrets(closed))
}

// TestCheckChannelURL: a URL of an unknown or unoffered service, or one
// its service's parser refuses, is refused with the list of services and
// without quoting the URL.
func TestCheckChannelURL(t *testing.T) {
	for u, want := range map[string]string{
		"telegram://s3cretBotT0ken@telegram?chats=@chan": `names the service "telegram", which mailmon does not offer: one of discord, gotify`,
		"nosuch://s3cretBotT0ken@host":                   `names the service "nosuch", which mailmon does not offer`,
		"s3cretBotT0ken":                                 "is not a service URL: one of discord",
		"rocketchat://host/s3cretBotT0ken":               "is not a valid rocketchat URL",
	} {
		_, err := config.CheckChannelURL(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", u, err, want)
			continue
		}
		nosecret.Check(t, "the error", err.Error(), []string{"s3cretBotT0ken"})
	}
}
