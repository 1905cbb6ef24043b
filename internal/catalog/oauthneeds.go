package catalog

import "github.com/mailmon/mailmon/internal/config"

// neededSecret is a secret a monitor must have (given or stored).
type neededSecret struct {
	name     string
	sec      config.SecretRef
	required bool
	why      string
}

// oauthNeeds are the secrets oauth block o (of the monitor, leg "", or
// of its SMTP leg, "smtp") needs: a service account's key; otherwise
// the client secret, unless a refresh token is given or stored (have).
func oauthNeeds(o *config.OAuth, leg string, have func(name string) bool) []neededSecret {
	whose := ""
	if leg != "" {
		whose = "the SMTP leg's "
	}
	switch {
	case o == nil:
		return nil
	case o.ServiceAccount():
		return []neededSecret{{config.SAKeySecret(leg), o.ServiceAccountKey, true,
			"is required with subject: " + whose + "service account's JSON key, as {file: PATH}"}}
	case have(config.RefreshSecret(leg)):
		return nil
	}
	return []neededSecret{{config.ClientSecret(leg), o.ClientSecret, true,
		"is required: " + whose + "client secret, or a refresh_token from \"mailmon oauth login\""}}
}
