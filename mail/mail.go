// Package mail sends email: over SMTP through go-mail, or, for development
// without a mail server, into a folder of .eml files.
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. ID makes the Message-ID, so a
// message sent twice by mistake can be recognised as the same one.
type Message struct {
	ID       string
	FromName string
	From     string
	ReplyTo  string
	To       string
	Subject  string
	Body     string
	// HTMLBody, if set, goes with Body as its alternative
	// (multipart/alternative: mail programs show the HTML, or the text).
	HTMLBody string
	// ListUnsubscribe, if set, is the List-Unsubscribe header's value, e.g.
	// "<mailto:billing@example.com?subject=unsubscribe>".
	ListUnsubscribe string
	// Attachments go with the message as files (multipart/mixed).
	Attachments []Attachment
	// MessageID, if set ("<local@domain>"), is the Message-ID instead of one
	// made from ID; InReplyTo and References, if set, are those headers
	// (a mail about a ticket: the mail gateway threads the answers by them).
	MessageID  string
	InReplyTo  string
	References string
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string
	ContentType string
	Content     []byte
}

func (m Message) build() (*gomail.Msg, string, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(m.FromName, m.From); err != nil {
		return nil, "", fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, "", fmt.Errorf("to %q: %w", m.To, err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, "", fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
	}
	sum := sha256.Sum256([]byte(m.ID))
	id := hex.EncodeToString(sum[:16]) + "@billing"
	if m.MessageID != "" {
		id = strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	}
	msg.SetMessageIDWithValue(id)
	if m.InReplyTo != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, m.InReplyTo)
	}
	if m.References != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, m.References)
	}
	msg.SetDate()
	msg.Subject(m.Subject)
	// Every message is sent by the system, never by a person: RFC 3834 asks
	// auto-responders (vacation replies) not to answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.ListUnsubscribe != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, m.ListUnsubscribe)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if m.HTMLBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTMLBody)
	}
	for _, a := range m.Attachments {
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Content), gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
	}
	return msg, "<" + id + ">", nil
}

// SMTP sends through an SMTP server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "none", "opportunistic" (STARTTLS when offered) or "mandatory".
	TLS string
}

// NewSMTP returns an SMTP sender for addr (host:port).
func NewSMTP(addr, username, password, tls string) (*SMTP, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("SMTP_ADDR: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("SMTP_ADDR port: %w", err)
	}
	switch tls {
	case "none", "opportunistic", "mandatory":
	default:
		return nil, fmt.Errorf("SMTP_TLS must be none, opportunistic or mandatory, not %q", tls)
	}
	return &SMTP{Host: host, Port: p, Username: username, Password: password, TLS: tls}, nil
}

// What a send's error means (the rules of the README's "Notices"):
//   - nil: the server answered 250 to the end of DATA. The message is
//     delivered, whatever happens after (a dropped connection before the
//     reply to RSET or QUIT is not an error);
//   - *RejectedError: the server refused the message for good (5xx): sending
//     it again won't help;
//   - *UnknownError: the connection was lost, or the context ended, after the
//     whole message was sent and before the server's reply: it may have been
//     taken. Sent again, it carries the same Message-ID, so that mail systems
//     that deduplicate show one;
//   - any other error: the message was not taken (refused connection, a 4xx,
//     a connection lost before the end of DATA): send it again later.

// RejectedError is a message the server refused for good.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return "rejected: " + e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// UnknownError is a send whose outcome is unknown: the server may have the message.
type UnknownError struct{ Err error }

func (e *UnknownError) Error() string { return "outcome unknown: " + e.Err.Error() }
func (e *UnknownError) Unwrap() error { return e.Err }

// Send delivers m and returns its Message-ID. The whole conversation is
// bounded by ctx: when it ends, the connection is closed.
func (s *SMTP) Send(ctx context.Context, m Message) (string, error) {
	msg, id, err := m.build()
	if err != nil {
		return "", &RejectedError{Err: err}
	}
	timeout := 15 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return "", fmt.Errorf("no time left to send: %w", context.DeadlineExceeded)
	}
	policy := map[string]gomail.TLSPolicy{"none": gomail.NoTLS, "opportunistic": gomail.TLSOpportunistic, "mandatory": gomail.TLSMandatory}[s.TLS]
	opts := []gomail.Option{gomail.WithTLSPolicy(policy), gomail.WithPort(s.Port), gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(boundedDial(ctx))}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return "", err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		return id, nil // 250 after DATA: delivered, whatever came after
	}
	return "", outcome(err)
}

// outcome classifies a failed send (see the rules above Send).
func outcome(err error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return err // dialing, greeting, TLS or auth: nothing was sent
	}
	code := se.ErrorCode()
	switch {
	case code >= 500:
		return &RejectedError{Err: err}
	case code >= 400:
		return err
	case se.Reason == gomail.ErrSMTPDataClose:
		return &UnknownError{Err: err} // the end of DATA went out, its reply never came
	}
	return err
}

// boundedDial dials connections that end with ctx: every read and write has
// ctx's deadline at the latest, and the connection is closed when ctx ends.
func boundedDial(ctx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		dl, _ := ctx.Deadline()
		return &boundedConn{Conn: conn, deadline: dl, stop: stop}, nil
	}
}

type boundedConn struct {
	net.Conn
	deadline time.Time
	stop     func() bool
}

func (c *boundedConn) bound(t time.Time) time.Time {
	if !c.deadline.IsZero() && (t.IsZero() || t.After(c.deadline)) {
		return c.deadline
	}
	return t
}

func (c *boundedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.bound(t)) }
func (c *boundedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.bound(t)) }
func (c *boundedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.bound(t)) }
func (c *boundedConn) Close() error                       { c.stop(); return c.Conn.Close() }

// Dir writes each message as an .eml file into a folder, for development
// without a mail server: open them with any mail program.
type Dir struct {
	Path string
}

// Send writes m to Path and returns its Message-ID.
func (d Dir) Send(_ context.Context, m Message) (string, error) {
	msg, id, err := m.build()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(m.ID))
	name := filepath.Join(d.Path, hex.EncodeToString(sum[:8])+".eml")
	return id, msg.WriteToFile(name)
}
