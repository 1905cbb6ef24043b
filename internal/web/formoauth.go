package web

import (
	"net/url"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
)

// The OAuth fieldset: a token endpoint mailmon asks itself (Microsoft 365,
// Google Workspace, or any other by its URL), its client secret and
// refresh token write-only like a password. It shows twice: the
// monitor's ("oauth.") and, on a round trip, the SMTP leg's own
// ("smtp.oauth."), from one template (oauthfields, monitorform.html).
var oauthPrefixes = []string{"", "smtp."}

// oauthLabels are the fieldset's labels (monitorform.html): an error
// beside one of its fields names it, as the form does.
var oauthLabels = map[string]string{"oauth.provider": "Provider", "oauth.tenant": "Tenant", "oauth.token_url": "Token URL",
	"oauth.client_id": "Application (client) id", "oauth.scope": "Scope", config.SecretOAuthClient: "Client secret",
	config.SecretOAuthRefresh: "Refresh token", config.SecretOAuthSAKey: "Service account key", "oauth.subject": "Subject"}

// oauthFormFields are the fieldsets' fields, both prefixes.
func oauthFormFields() []string {
	var out []string
	for _, p := range oauthPrefixes {
		for k := range oauthLabels {
			out = append(out, p+k)
		}
	}
	return out
}

// nameOAuthErrors leads the fieldsets' errors with their field's label.
func nameOAuthErrors(errs map[string]string) {
	for _, p := range oauthPrefixes {
		for k, l := range oauthLabels {
			if p != "" {
				l = "SMTP " + l
			}
			if e := errs[p+k]; e != "" && !strings.HasPrefix(e, l+": ") {
				errs[p+k] = l + ": " + e
			}
		}
	}
}

// fillOAuth shows a stored oauth block under prefix p.
func (f *formData) fillOAuth(p string, o *config.OAuth) {
	if o == nil {
		return
	}
	for k, v := range map[string]string{"oauth.provider": o.Provider, "oauth.tenant": o.Tenant, "oauth.token_url": o.TokenURL,
		"oauth.client_id": o.ClientID, "oauth.scope": o.Scope, "oauth.subject": o.Subject} {
		if v != "" {
			f.V[p+k] = v
		}
	}
}

// readOAuth reads the fieldset under prefix p: nil when it is empty (no
// token endpoint).
func readOAuth(p string, get func(string) string) *config.OAuth {
	o := &config.OAuth{Provider: get(p + "oauth.provider"), Tenant: get(p + "oauth.tenant"), TokenURL: get(p + "oauth.token_url"),
		ClientID: get(p + "oauth.client_id"), Scope: get(p + "oauth.scope"), Subject: get(p + "oauth.subject")}
	if *o == (config.OAuth{}) {
		return nil
	}
	return o
}

// readOAuthSecrets sets the write-only secrets of the monitor's fieldset
// and, on a round trip, of its SMTP leg's.
func readOAuthSecrets(in *catalog.Monitor, roundTrip bool, secret func(string) *string) {
	in.OAuthClientSecret = secret(config.SecretOAuthClient)
	in.OAuthRefreshToken = secret(config.SecretOAuthRefresh)
	in.OAuthServiceAccountKey = secret(config.SecretOAuthSAKey)
	if roundTrip {
		in.SMTPOAuthClientSecret = secret(config.SecretSMTPOAuthClient)
		in.SMTPOAuthRefreshToken = secret(config.SecretSMTPOAuthRefresh)
		in.SMTPOAuthServiceAccountKey = secret(config.SecretSMTPOAuthSAKey)
	}
}

// graphWithoutSMTP: a Graph round trip sends with sendMail unless the
// form names an SMTP host.
func graphWithoutSMTP(f *formData, form url.Values) bool {
	return f.Kind.Protocol == "graph" && form.Get("smtp.host") == ""
}
