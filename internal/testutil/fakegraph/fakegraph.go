// Package fakegraph is a Microsoft Graph v1.0 server for tests, on
// loopback over HTTPS with a test CA, answering the calls a mail round
// trip makes in the shapes Microsoft documents: POST
// /users/{id}/sendMail (MIME, base64, text/plain → 202), GET
// /users/{id}/mailFolders/{folder} and .../messages with $select, $filter
// (subject eq '…', startswith(subject,'…')), $top and @odata.nextLink
// paging, DELETE /users/{id}/messages/{id} (204). Errors are Graph's
// {"error": {"code", "message"}}: 401 with WWW-Authenticate for a bad
// token, 403 ErrorAccessDenied for a mailbox the token may not open, 404
// for a missing message, 429 with Retry-After when told to throttle.
package fakegraph

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// Message is a stored message.
type Message struct {
	ID       string
	MIME     []byte
	Received time.Time
}

// Server is the fake.
type Server struct {
	Host string
	Port int

	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]string // bearer token → the one mailbox it may open ("" any)
	folders   map[string]map[string][]*Message
	toJunk    bool
	throttle  int // requests still to answer 429
	retryAfer int
	requests  []string // "METHOD path", in order
	pageSize  int
	check     func(token string) (string, bool)
}

// Start starts the fake, trusted by ca.
func Start(t testing.TB, ca *certs.CA) *Server {
	t.Helper()
	s := &Server{tokens: map[string]string{}, folders: map[string]map[string][]*Message{}, pageSize: 50}
	s.srv = ca.StartHTTPS(t, http.HandlerFunc(s.serve))
	a := s.srv.Listener.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", a.Port
	return s
}

// TrustTokens makes the tokens check ask an authorization server (its
// introspection: active, and the mailbox the token may open).
func (s *Server) TrustTokens(check func(token string) (mailbox string, ok bool)) {
	s.mu.Lock()
	s.check = check
	s.mu.Unlock()
}

// Allow makes token valid for mailbox ("": every mailbox).
func (s *Server) Allow(token, mailbox string) {
	s.mu.Lock()
	s.tokens[token] = mailbox
	s.mu.Unlock()
}

// AddMailbox makes a mailbox with an empty inbox and Junk Email.
func (s *Server) AddMailbox(user string) {
	s.mu.Lock()
	s.folders[strings.ToLower(user)] = map[string][]*Message{"inbox": nil, "junkemail": nil}
	s.mu.Unlock()
}

// Put stores a message in a folder as delivered, returning its id.
func (s *Server) Put(user, folder string, mime []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ID: newID(), MIME: bytes.Clone(mime), Received: time.Now()}
	f := s.folders[strings.ToLower(user)]
	f[folder] = append(f[folder], m)
	return m.ID
}

// Folder returns copies of a folder's messages.
func (s *Server) Folder(user, folder string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.folders[strings.ToLower(user)][folder] {
		out = append(out, Message{ID: m.ID, MIME: bytes.Clone(m.MIME), Received: m.Received})
	}
	return out
}

// DeliverToJunk makes sendMail deliver into Junk Email.
func (s *Server) DeliverToJunk(on bool) {
	s.mu.Lock()
	s.toJunk = on
	s.mu.Unlock()
}

// Throttle answers the next n requests 429 with Retry-After seconds.
func (s *Server) Throttle(n, retryAfter int) {
	s.mu.Lock()
	s.throttle, s.retryAfer = n, retryAfter
	s.mu.Unlock()
}

// SetPageSize sets the most messages a page holds ($top caps it further).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	s.pageSize = n
	s.mu.Unlock()
}

// Requests lists the requests served, "METHOD /path".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func newID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "AAMk" + base64.RawURLEncoding.EncodeToString(b) + "="
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", hex.EncodeToString([]byte(code))[:8])
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]string{"date": time.Now().UTC().Format(time.RFC3339)}}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	if s.throttle > 0 {
		s.throttle--
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfer))
		graphError(w, 429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	allowed, known := s.tokens[tok]
	if s.check != nil && !known {
		allowed, known = s.check(tok)
	}
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		graphError(w, 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1.0/"), "/")
	if len(parts) < 2 || parts[0] != "users" {
		graphError(w, 400, "BadRequest", "Resource not found for the segment '"+parts[0]+"'.")
		return
	}
	user := strings.ToLower(parts[1])
	box := s.folders[user]
	if box == nil || allowed != "" && !strings.EqualFold(allowed, user) {
		graphError(w, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return
	}
	rest := parts[2:]
	switch {
	case r.Method == http.MethodPost && len(rest) == 1 && rest[0] == "sendMail":
		s.sendMail(w, r)
	case r.Method == http.MethodGet && len(rest) == 2 && rest[0] == "mailFolders":
		msgs, ok := box[rest[1]]
		if !ok {
			graphError(w, 404, "ErrorInvalidIdMalformed", "Id is malformed.")
			return
		}
		writeJSON(w, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + user + "')/mailFolders/$entity",
			"id": rest[1], "displayName": map[string]string{"inbox": "Inbox", "junkemail": "Junk Email"}[rest[1]], "totalItemCount": len(msgs)})
	case r.Method == http.MethodGet && len(rest) == 3 && rest[0] == "mailFolders" && rest[2] == "messages":
		s.list(w, r, user, rest[1])
	case r.Method == http.MethodDelete && len(rest) == 2 && rest[0] == "messages":
		for f, msgs := range box {
			for i, m := range msgs {
				if m.ID == rest[1] {
					box[f] = slices.Delete(msgs, i, i+1)
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
		}
		graphError(w, 404, "ErrorItemNotFound", "The specified object was not found in the store.")
	default:
		graphError(w, 400, "BadRequest", "Unsupported request "+r.Method+" "+r.URL.Path)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// sendMail takes a MIME message, base64, as text/plain, and delivers it
// to its recipients' mailboxes here.
func (s *Server) sendMail(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		graphError(w, 400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body)))
	if err != nil {
		graphError(w, 400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
		return
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		graphError(w, 400, "ErrorMimeContentInvalid", "The MIME content is invalid.")
		return
	}
	to, _ := msg.Header.AddressList("To")
	folder := "inbox"
	if s.toJunk {
		folder = "junkemail"
	}
	for _, a := range to {
		if box := s.folders[strings.ToLower(a.Address)]; box != nil {
			box[folder] = append(box[folder], &Message{ID: newID(), MIME: raw, Received: time.Now()})
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// list answers .../messages with $select, $filter, $top, $skip and
// @odata.nextLink.
func (s *Server) list(w http.ResponseWriter, r *http.Request, user, folder string) {
	msgs, ok := s.folders[user][folder]
	if !ok {
		graphError(w, 404, "ErrorInvalidIdMalformed", "Id is malformed.")
		return
	}
	q := r.URL.Query()
	match, err := filter(q.Get("$filter"))
	if err != nil {
		graphError(w, 400, "BadRequest", err.Error())
		return
	}
	top, skip := s.pageSize, 0
	if n, err := strconv.Atoi(q.Get("$top")); err == nil && n > 0 && n < top {
		top = n
	}
	if n, err := strconv.Atoi(q.Get("$skip")); err == nil && n > 0 {
		skip = n
	}
	var sel []map[string]any
	for _, m := range msgs {
		h, subject := headers(m.MIME)
		if !match(subject) {
			continue
		}
		sel = append(sel, selected(q.Get("$select"), m, h, subject))
	}
	page := sel[min(skip, len(sel)):min(skip+top, len(sel))]
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + user + "')/mailFolders('" + folder + "')/messages", "value": page}
	if page == nil {
		out["value"] = []any{}
	}
	if skip+top < len(sel) {
		next := *r.URL
		nq := next.Query()
		nq.Set("$skip", strconv.Itoa(skip+top))
		next.RawQuery = nq.Encode()
		out["@odata.nextLink"] = "https://" + r.Host + next.RequestURI()
	}
	writeJSON(w, out)
}

func headers(raw []byte) ([]map[string]string, string) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	var out []map[string]string
	subject := ""
	for {
		line, err := tp.ReadContinuedLine()
		if err != nil || line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		out = append(out, map[string]string{"name": k, "value": v})
		if strings.EqualFold(k, "Subject") {
			subject = v
		}
	}
	return out, subject
}

func selected(sel string, m *Message, h []map[string]string, subject string) map[string]any {
	all := map[string]any{"id": m.ID, "subject": subject, "receivedDateTime": m.Received.UTC().Format("2006-01-02T15:04:05Z"),
		"internetMessageHeaders": h}
	for _, f := range h {
		if strings.EqualFold(f["name"], "Message-ID") {
			all["internetMessageId"] = f["value"]
		}
	}
	if sel == "" {
		return all
	}
	out := map[string]any{"@odata.etag": `W/"CQAAABYAAAA"`, "id": m.ID}
	for _, f := range strings.Split(sel, ",") {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	return out
}

// filter understands the two forms a round trip sends.
func filter(f string) (func(subject string) bool, error) {
	if f == "" {
		return func(string) bool { return true }, nil
	}
	lit := func(s string) (string, bool) {
		if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
			return "", false
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), true
	}
	if v, ok := strings.CutPrefix(f, "subject eq "); ok {
		if want, ok := lit(v); ok {
			return func(s string) bool { return s == want }, nil
		}
	}
	if v, ok := strings.CutPrefix(f, "startswith(subject,"); ok && strings.HasSuffix(v, ")") {
		if want, ok := lit(strings.TrimSuffix(v, ")")); ok {
			return func(s string) bool { return strings.HasPrefix(s, want) }, nil
		}
	}
	return nil, fmt.Errorf("Invalid filter clause: %s", url.QueryEscape(f))
}
