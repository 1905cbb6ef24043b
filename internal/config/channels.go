package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
)

// An alert action by URL (url: "ntfy://…"): a notification service of
// github.com/nicholas-fedor/shoutrrr, the URL in its form. The whole URL is
// a secret (a token, a topic, a password sits anywhere in it): sealed as
// "url" like a password, never exported or shown, and kept out of every
// error (RedactChannelURL). The spec keeps only the service's name
// (Alert.Service), which is not a secret, so that the kind survives the
// URL being sealed apart.

// ChannelServices are the services mailmon offers by URL: those whose
// HTTP client mailmon can replace with its own (internal/alert), so that
// each is held to the egress policy, one deadline and a size limit on
// answers. The library's others make their requests with Go's default
// client, out of reach of the policy: they are not offered.
var ChannelServices = []string{"discord", "gotify", "mattermost", "ntfy", "pushover", "rocketchat"}

// CheckChannelURL says whether u is the URL of a service mailmon offers,
// parsed by the service's own parser, and returns the service's name. Its
// error never quotes the URL.
func CheckChannelURL(u string) (string, error) {
	offered := "one of " + strings.Join(ChannelServices, ", ") + " (like ntfy://ntfy.example.com/alerts)"
	r, err := router.New(nil)
	if err != nil {
		return "", err
	}
	service, _, err := r.ExtractServiceName(u)
	if err != nil || service == "" {
		return "", errors.New("is not a service URL: " + offered)
	}
	if !slices.Contains(ChannelServices, service) {
		if !schemeName.MatchString(service) {
			return "", errors.New("is not a service URL: " + offered)
		}
		return "", fmt.Errorf("names the service %q, which mailmon does not offer: %s", service, offered)
	}
	if _, err := r.Locate(u); err != nil {
		return "", fmt.Errorf("is not a valid %s URL: %s", service, RedactChannelURL(err.Error(), u))
	}
	return service, nil
}

// schemeName is what a URL scheme may be (RFC 3986), short: what may be
// quoted of a URL that is not one mailmon offers.
var schemeName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]{0,20}$`)

// ChannelService is the service a channel URL names ("" if none).
func ChannelService(u string) string {
	s, _, _ := strings.Cut(u, "://")
	s, _, _ = strings.Cut(s, "+")
	if !schemeName.MatchString(s) {
		return ""
	}
	return strings.ToLower(s)
}

// RedactChannelURL removes from text every part of the channel URL raw
// but its service's name: the URL itself, its user, password, host, path
// segments, query values and fragment, as they are and escaped. The
// library's errors quote URLs it builds from these parts.
func RedactChannelURL(text, raw string) string {
	pieces := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			pw, _ := u.User.Password()
			pieces = append(pieces, u.User.Username(), pw, u.User.String())
		}
		pieces = append(pieces, u.Host, u.Hostname(), u.Fragment, u.RawQuery, u.Path, u.Opaque)
		pieces = append(pieces, strings.Split(u.Path, "/")...)
		for _, vs := range u.Query() {
			pieces = append(pieces, vs...)
		}
	}
	service := ChannelService(raw)
	var all []string
	for _, p := range pieces {
		if len(p) < 4 || strings.EqualFold(p, service) {
			continue // "api", "v1": no secret, and everywhere in a message
		}
		all = append(all, p, url.PathEscape(p), url.QueryEscape(p))
	}
	slices.SortFunc(all, func(a, b string) int { return cmp.Compare(len(b), len(a)) }) // the longest first
	for _, p := range all {
		text = strings.ReplaceAll(text, p, "…")
	}
	return text
}

// IsChannel says whether the alert is an action by URL.
func (a *Alert) IsChannel() bool { return a.URL.Set() || a.Service != "" }

// SetService records the service of the channel URL u in the alert's
// spec ("" keeps the recorded one).
func (a *Alert) SetService(u string) {
	if s := ChannelService(u); s != "" {
		a.Service = s
	}
}
