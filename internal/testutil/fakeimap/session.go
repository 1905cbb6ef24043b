package fakeimap

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"

	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// session is the memory server's session with the SASL mechanisms of the
// options, and the IMAP4rev2 methods delegated.
type session struct {
	imapserver.Session
	s    *Server
	user string // who logged in
}

var (
	_ imapserver.SessionSASL      = (*session)(nil)
	_ imapserver.SessionIMAP4rev2 = (*session)(nil)
)

func (ss *session) Namespace() (*imap.NamespaceData, error) {
	return ss.Session.(imapserver.SessionNamespace).Namespace()
}

func (ss *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return ss.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

func (ss *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	time.Sleep(ss.s.opts.SearchDelay)
	return ss.Session.Search(kind, criteria, options)
}

func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if ss.s.opts.IdleNews {
		if err := w.WriteMailboxFlags([]imap.Flag{imap.FlagSeen, imap.FlagDeleted, "$Reviewed"}); err != nil {
			return err
		}
	}
	return ss.Session.Idle(w, stop)
}

func (ss *session) AuthenticateMechanisms() []string {
	mechs := ss.s.opts.Mechanisms
	if len(mechs) == 0 {
		mechs = []string{"PLAIN"}
	}
	if ss.s.opts.Echo {
		// The library advertises no capability of its own invention:
		// the secrets go out as mechanisms, in the greeting's list.
		for _, u := range ss.s.opts.Users {
			for _, v := range []string{u.Password, u.Token} {
				if v != "" {
					mechs = append(slices.Clip(mechs), "X-ECHO-"+v)
				}
			}
		}
	}
	return mechs
}

func (ss *session) Authenticate(mech string) (sasl.Server, error) {
	var srv sasl.Server
	switch mech {
	case "PLAIN":
		srv = sasl.NewPlainServer(func(identity, user, password string) error {
			if identity != "" && identity != user {
				return imapserver.ErrAuthFailed
			}
			return ss.Login(user, password)
		})
	case "XOAUTH2":
		srv = &xoauth2Server{ss: ss}
	case "OAUTHBEARER":
		srv = sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if err := ss.loginToken(o.Username, o.Token); err != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		})
	case "CRAM-MD5":
		srv = &cramServer{ss: ss}
	default:
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
	}
	if ss.s.opts.Echo {
		srv = saslsrv.Echo(srv, mech)
	}
	for _, m := range ss.AuthenticateMechanisms() {
		if strings.EqualFold(m, mech) {
			return authFailed{srv}, nil
		}
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not offered"}
}

// loginToken logs the session in as user when token is the user's.
func (ss *session) loginToken(user, token string) error {
	u, ok := ss.s.users[user]
	if !ok || u.Token == "" || token != u.Token {
		return imapserver.ErrAuthFailed
	}
	return ss.Login(u.Name, u.Password)
}

// authFailed turns every failure of a mechanism into NO
// [AUTHENTICATIONFAILED], as a real server answers, rather than the
// library's internal server error; an echoing exchange's refusal repeats
// what the client sent.
type authFailed struct{ sasl.Server }

func (a authFailed) Next(resp []byte) ([]byte, bool, error) {
	chal, done, err := a.Server.Next(resp)
	var ee *saslsrv.EchoError
	var ie *imap.Error
	switch {
	case err == nil:
	case errors.As(err, &ee):
		err = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: printable(ee.Error())}
	case !errors.As(err, &ie):
		err = imapserver.ErrAuthFailed
	}
	return chal, done, err
}

// xoauth2Server: "user=U\x01auth=Bearer T\x01\x01"; a bad token is answered
// with a JSON challenge, and the client's empty reply with NO.
type xoauth2Server struct {
	ss     *session
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, imapserver.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, kv := range bytes.Split(resp, []byte{1}) {
		k, v, _ := strings.Cut(string(kv), "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token = strings.TrimPrefix(v, "Bearer ")
		}
	}
	if err := x.ss.loginToken(user, token); err != nil {
		x.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.example.com/"}`), false, nil
	}
	return nil, true, nil
}

// cramServer is CRAM-MD5 (RFC 2195).
type cramServer struct {
	ss   *session
	chal []byte
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.chal == nil {
		c.chal = []byte("<1896.697170952@fakeimap.test>")
		return c.chal, false, nil
	}
	user, digest, ok := strings.Cut(string(resp), " ")
	u, known := c.ss.s.users[user]
	if !ok || !known {
		return nil, true, imapserver.ErrAuthFailed
	}
	m := hmac.New(md5.New, []byte(u.Password))
	m.Write(c.chal)
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(digest)) {
		return nil, true, imapserver.ErrAuthFailed
	}
	return nil, true, c.ss.Login(u.Name, u.Password)
}
