package oauthsrv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/jws"
)

// JWTBearer is RFC 7523's grant type, as Google's service accounts use it.
const JWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// account is a service account: the public half of its key and the
// scopes domain-wide delegation grants it ("": none granted).
type account struct {
	key       *rsa.PublicKey
	delegated string
}

// AddServiceAccount registers a service account by its e-mail (the
// assertion's iss) with its key's public half; delegated is the scope
// list domain-wide delegation grants it ("": not granted, every request
// unauthorized_client, as Google answers).
func (s *Server) AddServiceAccount(email string, key *rsa.PublicKey, delegated string) {
	s.mu.Lock()
	if s.accounts == nil {
		s.accounts = map[string]*account{}
	}
	s.accounts[email] = &account{key: key, delegated: delegated}
	s.mu.Unlock()
}

// maxAssertionLife is the longest exp - iat Google takes (one hour).
const maxAssertionLife = time.Hour

// jwtBearer is RFC 7523 §2.1 and §3: the assertion is an RS256 JWT
// signed with the account's key, whose iss is the account, aud this
// token URL, sub the user acted for, exp in the future and at most an
// hour after iat, iat not in the future; the scope must be delegated.
// The caller holds s.mu.
func (s *Server) jwtBearer(w http.ResponseWriter, r *http.Request) {
	assertion := r.PostForm.Get("assertion")
	claims, err := jws.Decode(assertion)
	if err != nil {
		oauthError(w, 400, "invalid_grant", "Invalid JWT: the assertion does not decode")
		return
	}
	a := s.accounts[claims.Iss]
	if a == nil {
		oauthError(w, 401, "invalid_client", "The OAuth client was not found.")
		return
	}
	if err := jws.Verify(assertion, a.key); err != nil {
		oauthError(w, 400, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if alg(assertion) != "RS256" {
		oauthError(w, 400, "invalid_grant", "Invalid JWT: alg is not RS256")
		return
	}
	now := time.Now()
	switch {
	case claims.Aud != s.TokenURL():
		oauthError(w, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe (aud)")
		return
	case claims.Exp == 0 || claims.Iat == 0 || time.Unix(claims.Exp, 0).Before(now) || time.Unix(claims.Iat, 0).After(now.Add(time.Minute)) ||
		time.Unix(claims.Exp, 0).Sub(time.Unix(claims.Iat, 0)) > maxAssertionLife:
		oauthError(w, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case claims.Sub == "":
		oauthError(w, 400, "invalid_grant", "Invalid email or User ID")
		return
	case a.delegated == "" || claims.Scope == "" || !subset(claims.Scope, a.delegated):
		oauthError(w, 401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
		return
	}
	s.issue(w, &grant{client: claims.Iss, user: claims.Sub, scope: claims.Scope}, false)
}

// alg is the algorithm the assertion's header names.
func alg(assertion string) string {
	h, _, _ := strings.Cut(assertion, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(b, &hdr) != nil {
		return ""
	}
	return hdr.Alg
}

// NewServiceAccount makes a service account with a new RSA key,
// registers it (AddServiceAccount) and returns its key file as the Cloud
// console downloads it, its token_uri this server's.
func (s *Server) NewServiceAccount(t testing.TB, email, delegated string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s.AddServiceAccount(email, &key.PublicKey, delegated)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "mailmon-test", "private_key_id": random(),
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "client_email": email,
		"client_id": "1234567890", "token_uri": s.TokenURL()})
	return string(b)
}
