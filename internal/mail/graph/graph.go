// Package graph is a small Microsoft Graph v1.0 client for the calls a
// mail round trip makes: send a MIME message (POST /users/{id}/sendMail),
// list a folder's messages with $filter and $select following
// @odata.nextLink, and delete a message by id. Graph's throttling (429 or
// 503 with Retry-After) is waited out within the caller's deadline, never
// beyond it. The bearer token is the caller's.
package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds every response read: a page of message headers is far
// smaller.
const maxBody = 8 << 20

// maxPages bounds the pages of one listing.
const maxPages = 50

// Client calls Graph at Base ("https://graph.microsoft.com/v1.0").
type Client struct {
	Base  string
	HTTP  *http.Client
	Token string
	// Throttled, when set, is told of each wait Graph asked for.
	Throttled func(wait time.Duration)
}

// Error is Graph's error answer: the HTTP status, its error.code and
// message, and the WWW-Authenticate challenge of a 401.
type Error struct {
	Status          int
	Code, Message   string
	WWWAuthenticate string
	RetryAfter      time.Duration // 429 and 503: how long Graph asked to wait
}

func (e *Error) Error() string {
	s := fmt.Sprintf("Graph answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.WWWAuthenticate != "" {
		s += " (WWW-Authenticate: " + e.WWWAuthenticate + ")"
	}
	return s
}

// Auth reports a refusal of the token or of its rights (401, 403).
func (e *Error) Auth() bool { return e.Status == 401 || e.Status == 403 }

// Throttled reports 429 or 503.
func (e *Error) Throttled() bool { return e.Status == 429 || e.Status == 503 }

// ErrThrottledPastDeadline is a wait Graph asked for that the deadline
// does not leave room for.
var ErrThrottledPastDeadline = errors.New("Graph throttled the test (429 Retry-After) past its deadline")

// Header is one internet message header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Message is what a listing selects of a message.
type Message struct {
	ID                     string    `json:"id"`
	Subject                string    `json:"subject"`
	ReceivedDateTime       time.Time `json:"receivedDateTime"`
	InternetMessageID      string    `json:"internetMessageId"`
	InternetMessageHeaders []Header  `json:"internetMessageHeaders"`
}

// HeaderBlock is the message's headers as a header block, for a parser of
// RFC 5322 headers.
func (m *Message) HeaderBlock() []byte {
	var b bytes.Buffer
	for _, h := range m.InternetMessageHeaders {
		b.WriteString(strings.NewReplacer("\r", " ", "\n", " ").Replace(h.Name) + ": " +
			strings.NewReplacer("\r", " ", "\n", " ").Replace(h.Value) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func userPath(user string) string { return "/users/" + url.PathEscape(user) }

// SendMail sends a MIME message as user (Graph's "send mail in MIME
// format": the body is the message, base64, as text/plain), keeping every
// header mailmon wrote. Graph answers 202 Accepted.
func (c *Client) SendMail(ctx context.Context, user string, mime []byte) error {
	body := base64.StdEncoding.EncodeToString(mime)
	_, err := c.do(ctx, http.MethodPost, c.Base+userPath(user)+"/sendMail", "text/plain", body, http.StatusAccepted)
	return err
}

// Messages lists the messages of a folder ("inbox", "junkemail", or an
// id) that match filter, with the fields of Message, following
// @odata.nextLink within Base.
func (c *Client) Messages(ctx context.Context, user, folder, filter string) ([]Message, error) {
	q := url.Values{}
	q.Set("$select", "id,subject,receivedDateTime,internetMessageId,internetMessageHeaders")
	q.Set("$top", "50")
	if filter != "" {
		q.Set("$filter", filter)
	}
	next := c.Base + userPath(user) + "/mailFolders/" + url.PathEscape(folder) + "/messages?" + q.Encode()
	var out []Message
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return out, fmt.Errorf("more than %d pages of messages", maxPages)
		}
		if !strings.HasPrefix(next, c.Base+"/") {
			return out, fmt.Errorf("@odata.nextLink %q leaves %s", next, c.Base)
		}
		b, err := c.do(ctx, http.MethodGet, next, "", "", http.StatusOK)
		if err != nil {
			return out, err
		}
		var p struct {
			Value    []Message `json:"value"`
			NextLink string    `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return out, fmt.Errorf("a page of messages: %w", err)
		}
		out = append(out, p.Value...)
		next = p.NextLink
	}
	return out, nil
}

// Folder reads a folder ("inbox"): a login check.
func (c *Client) Folder(ctx context.Context, user, folder string) (total int, err error) {
	b, err := c.do(ctx, http.MethodGet, c.Base+userPath(user)+"/mailFolders/"+url.PathEscape(folder), "", "", http.StatusOK)
	if err != nil {
		return 0, err
	}
	var f struct {
		TotalItemCount int `json:"totalItemCount"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("a mail folder: %w", err)
	}
	return f.TotalItemCount, nil
}

// Delete deletes a message by id (204 No Content).
func (c *Client) Delete(ctx context.Context, user, id string) error {
	_, err := c.do(ctx, http.MethodDelete, c.Base+userPath(user)+"/messages/"+url.PathEscape(id), "", "", http.StatusNoContent)
	return err
}

// do makes one call, waiting out throttling within ctx's deadline.
func (c *Client) do(ctx context.Context, method, u, ctype, body string, want int) ([]byte, error) {
	for {
		b, err := c.once(ctx, method, u, ctype, body, want)
		var ge *Error
		if !errors.As(err, &ge) || !ge.Throttled() {
			return b, err
		}
		wait := max(ge.RetryAfter, time.Second)
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return nil, fmt.Errorf("%w: asked to wait %v: %w", ErrThrottledPastDeadline, wait, err)
		}
		if c.Throttled != nil {
			c.Throttled(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) once(ctx context.Context, method, u, ctype, body string, want int) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err // the cause's type says what failed
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("Graph's answer is over %d bytes", maxBody)
	}
	if resp.StatusCode == want {
		return b, nil
	}
	e := &Error{Status: resp.StatusCode, WWWAuthenticate: resp.Header.Get("WWW-Authenticate")}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	var ge struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &ge) == nil {
		e.Code, e.Message = ge.Error.Code, ge.Error.Message
	}
	if resp.StatusCode < 400 && e.Code == "" {
		e.Message = "unexpected status"
	}
	return nil, e
}
