package oauth

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// Prompt is what the person at the terminal is told to do (RFC 8628
// §3.3): open VerificationURI and enter UserCode.
type Prompt struct {
	VerificationURI string
	UserCode        string
}

// DeviceLogin runs the device authorization grant (RFC 8628): it asks
// deviceURL for a code, shows the prompt, and polls the token endpoint at
// the interval the server asks until the person has consented, declined,
// or the code expired. It returns the refresh token to store (the access
// token is thrown away: monitors fetch their own).
func DeviceLogin(ctx context.Context, f *Flow, deviceURL string, show func(Prompt)) (string, error) {
	if err := CheckTokenURL(f.TokenURL); err != nil {
		return "", err
	}
	if err := CheckTokenURL(deviceURL); err != nil {
		return "", err
	}
	client, err := f.httpClient()
	if err != nil {
		return "", err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	c := oauth2.Config{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Scopes: f.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: f.TokenURL, DeviceAuthURL: deviceURL, AuthStyle: oauth2.AuthStyleInParams}}
	da, err := c.DeviceAuth(ctx)
	if err != nil {
		return "", endpointError(deviceURL, err)
	}
	uri := da.VerificationURI
	if da.VerificationURIComplete != "" {
		uri = da.VerificationURIComplete
	}
	show(Prompt{VerificationURI: uri, UserCode: da.UserCode})
	tok, err := c.DeviceAccessToken(ctx, da)
	if err != nil {
		return "", endpointError(f.TokenURL, err)
	}
	if tok.RefreshToken == "" {
		return "", errors.New("the endpoint returned no refresh token: ask for the offline_access scope (Microsoft) or an installed-app client (Google)")
	}
	return tok.RefreshToken, nil
}
