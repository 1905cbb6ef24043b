package browser

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/cli"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// TestServeTLS: serve --tls-cert/--tls-key serves HTTPS, and its session
// cookie is Secure (no browser needed).
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	const pw = "tls-test-password"
	var out strings.Builder
	if code := cli.Main(context.Background(), []string{"user", "add", "admin", "--db", filepath.Join(dir, "mailmon.db")},
		cli.Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Stdin: strings.NewReader(pw + "\n")}); code != 0 {
		t.Fatalf("user add: %d %s", code, out.String())
	}
	d := serve(t, dir, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(d.url, "https://") {
		t.Fatalf("serve prints %s", d.url)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(d.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS under TLS")
	}
	tok := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(body))
	if tok == nil {
		t.Fatalf("login page: %s", body)
	}
	resp, err = c.PostForm(d.url+"/login", url.Values{"csrf": {tok[1]}, "name": {"admin"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "mailmon_session" {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly {
		t.Errorf("login over TLS: %d, cookie %+v", resp.StatusCode, session)
	}
}
