package web

import (
	"net/url"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
)

// The OAuth fieldset: a token endpoint mailmon asks itself (Microsoft 365,
// Google Workspace, or any other by its URL), its client secret and
// refresh token write-only like a password.
var oauthFields = []string{"oauth.provider", "oauth.tenant", "oauth.token_url", "oauth.client_id", "oauth.scope"}

// oauthLabels are the fieldset's labels (monitorform.html): an error
// beside one of its fields names it, as the form does.
var oauthLabels = map[string]string{"oauth.provider": "Provider", "oauth.tenant": "Tenant", "oauth.token_url": "Token URL",
	"oauth.client_id": "Application (client) id", "oauth.scope": "Scope", config.SecretOAuthClient: "Client secret",
	config.SecretOAuthRefresh: "Refresh token"}

// nameOAuthErrors leads the fieldset's errors with their field's label.
func nameOAuthErrors(errs map[string]string) {
	for k, l := range oauthLabels {
		if e := errs[k]; e != "" && !strings.HasPrefix(e, l+": ") {
			errs[k] = l + ": " + e
		}
	}
}

// fillOAuth shows a stored monitor's oauth block.
func (f *formData) fillOAuth(o *config.OAuth) {
	if o == nil {
		return
	}
	for k, v := range map[string]string{"oauth.provider": o.Provider, "oauth.tenant": o.Tenant, "oauth.token_url": o.TokenURL,
		"oauth.client_id": o.ClientID, "oauth.scope": o.Scope} {
		if v != "" {
			f.V[k] = v
		}
	}
}

// readOAuth reads the fieldset: nil when it is empty (no token endpoint).
func readOAuth(get func(string) string) *config.OAuth {
	o := &config.OAuth{Provider: get("oauth.provider"), Tenant: get("oauth.tenant"), TokenURL: get("oauth.token_url"),
		ClientID: get("oauth.client_id"), Scope: get("oauth.scope")}
	if *o == (config.OAuth{}) {
		return nil
	}
	return o
}

// readOAuthSecrets sets the write-only secrets of the fieldset.
func readOAuthSecrets(in *catalog.Monitor, secret func(string) *string) {
	in.OAuthClientSecret = secret(config.SecretOAuthClient)
	in.OAuthRefreshToken = secret(config.SecretOAuthRefresh)
}

// graphWithoutSMTP: a Graph round trip sends with sendMail unless the
// form names an SMTP host.
func graphWithoutSMTP(f *formData, form url.Values) bool {
	return f.Kind.Protocol == "graph" && form.Get("smtp.host") == ""
}
