package oauth

import (
	"fmt"
	"strings"
)

// Provider is what a preset fills in: the endpoints, the scope, and the
// servers' defaults, so that a Microsoft 365 monitor needs only tenant,
// client id, secret and mailbox.
type Provider struct {
	Name      string
	TokenURL  string
	DeviceURL string
	// AppScope is the scope of an application's own token (client
	// credentials); UserScope of a person's (device login, refresh token).
	AppScope, UserScope string
	// GraphScope is the scope of a client credentials token for Graph.
	GraphScope string
	IMAP, POP3 string // host names of the mailbox servers (implicit TLS)
	SMTP       string // host name of the submission server (port 587, STARTTLS)
}

// Providers are the presets' names.
func Providers() []string { return []string{"microsoft", "google"} }

// validTenant: a directory (tenant) id, a verified domain, or one of the
// multi-tenant names; nothing that changes the URL's path. A letter or
// digit, then up to 252 letters, digits, dots and hyphens. (Written out,
// not a package-level regexp: compiling `{0,252}` at init cost every
// process, "mailmon-check" included, 0.2 MB and about 3 ms.)
func validTenant(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Preset returns the named provider; microsoft needs its tenant.
func Preset(name, tenant string) (Provider, error) {
	switch strings.ToLower(name) {
	case "microsoft":
		if tenant == "" {
			return Provider{}, fmt.Errorf("microsoft needs the tenant: the directory (tenant) id or a verified domain such as contoso.onmicrosoft.com")
		}
		if !validTenant(tenant) {
			return Provider{}, fmt.Errorf("%q is not a tenant id or domain", tenant)
		}
		base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
		return Provider{Name: "microsoft", TokenURL: base + "token", DeviceURL: base + "devicecode",
			AppScope: "https://outlook.office365.com/.default",
			UserScope: "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All " +
				"https://outlook.office.com/SMTP.Send offline_access",
			GraphScope: "https://graph.microsoft.com/.default",
			IMAP:       "outlook.office365.com", POP3: "outlook.office365.com", SMTP: "smtp.office365.com"}, nil
	case "google":
		if tenant != "" {
			return Provider{}, fmt.Errorf("google has no tenant: leave it out")
		}
		return Provider{Name: "google", TokenURL: "https://oauth2.googleapis.com/token", DeviceURL: "https://oauth2.googleapis.com/device/code",
			AppScope: "https://mail.google.com/", UserScope: "https://mail.google.com/",
			IMAP: "imap.gmail.com", POP3: "pop.gmail.com", SMTP: "smtp.gmail.com"}, nil
	}
	return Provider{}, fmt.Errorf("%q is not one of %s (or leave it out and give the token URL and scope)", name, strings.Join(Providers(), ", "))
}
