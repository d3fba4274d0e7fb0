// Package mail sends email: over SMTP through go-mail, or, for development
// without a mail server, into a folder of .eml files.
package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

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
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
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

// Send delivers m and returns its Message-ID.
func (s *SMTP) Send(ctx context.Context, m Message) (string, error) {
	msg, id, err := m.build()
	if err != nil {
		return "", err
	}
	policy := map[string]gomail.TLSPolicy{"none": gomail.NoTLS, "opportunistic": gomail.TLSOpportunistic, "mandatory": gomail.TLSMandatory}[s.TLS]
	opts := []gomail.Option{gomail.WithTLSPolicy(policy), gomail.WithPort(s.Port)}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return "", err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return "", err
	}
	return id, nil
}

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
