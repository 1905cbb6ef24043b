package harness

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// AddUser creates a web UI login with the admin role ("mailmon user add",
// the password on stdin).
func AddUser(bin, db, name, password string) error {
	cmd := exec.Command(bin, "user", "add", name, "--role", "admin", "--db", db)
	cmd.Env = Env()
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s user add %s: %v: %s", bin, name, err, Trim(string(out), 500))
	}
	return nil
}

// NoRedirects is an HTTP client that follows no redirect, with a timeout.
func NoRedirects() *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// csrfField is the login form's CSRF token, as the web tests find it.
var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Login logs in to the web UI at base as a browser does (the login form,
// its CSRF token, the session cookie) and returns a client that carries
// the session. The client follows no redirect, so that a page that sends
// it back to /login shows as such.
func Login(base, name, password string) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := NoRedirects()
	c.Jar = jar
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	tok := csrfField.FindSubmatch(page)
	if tok == nil {
		return nil, fmt.Errorf("login page (HTTP %d) has no CSRF token: %s", resp.StatusCode, Trim(string(page), 300))
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {string(tok[1])}, "name": {name}, "password": {password}, "next": {"/"}})
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login as %s: HTTP %d: %s", name, resp.StatusCode, Trim(string(body), 300))
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "mailmon_session" {
			return c, nil
		}
	}
	return nil, errors.New("login as " + name + ": no session cookie")
}
