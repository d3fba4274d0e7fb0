// Package fetch reads mail out of the IMAP and POP3 mailboxes the incoming
// mail gateway watches (issue 14): connect, list the messages not yet
// processed under a stable identity, fetch one message's raw RFC 5322 bytes
// under a size limit, mark it processed, close. Both protocols have the same
// shape (Client), so the gateway's poller doesn't care which one a mailbox
// speaks.
//
// Exactly-once is not something either protocol gives: a message is marked
// processed only after the gateway has stored it, so a crash in between
// fetches it again. The gateway must therefore remember the identities
// (Message.ID) it has stored and skip them; this package makes them stable.
package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Protocol is how the gateway reads a mailbox.
type Protocol string

// Protocols.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
)

// Security is how the connection is encrypted.
type Security string

// Security modes.
const (
	// Implicit TLS from the first byte (IMAPS 993, POP3S 995).
	Implicit Security = "implicit"
	// StartTLS upgrades a plain connection (IMAP STARTTLS, POP3 STLS) before
	// logging in; a server that refuses is an error, never a fallback.
	StartTLS Security = "starttls"
	// None sends the password in the clear: for local servers only.
	None Security = "none"
)

// AfterProcessing is what MarkProcessed does to a message.
type AfterProcessing string

// What MarkProcessed does.
const (
	// MarkSeen adds \Seen (IMAP), leaving the message in the mailbox. POP3
	// has no flags: there, MarkSeen deletes like Delete.
	MarkSeen AfterProcessing = "seen"
	// Delete removes the message: IMAP \Deleted + UID EXPUNGE, POP3 DELE.
	Delete AfterProcessing = "delete"
)

// Mailbox is one mailbox's connection settings.
type Mailbox struct {
	Protocol Protocol
	Host     string
	Port     int
	Security Security
	Login    string
	Password string
	// AfterProcessing: MarkSeen when empty.
	AfterProcessing AfterProcessing
	// TLSConfig overrides the TLS settings (tests trust a self-signed
	// certificate with it). Nil: the system's roots, ServerName = Host.
	TLSConfig *tls.Config
	// IdleTimeout is how long the server may send nothing while an answer
	// is awaited before the session is given up (ErrStalled); it bounds
	// the TCP connect too. Zero: DefaultIdleTimeout.
	IdleTimeout time.Duration
}

func (m Mailbox) idleTimeout() time.Duration {
	if m.IdleTimeout > 0 {
		return m.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Validate reports the first setting that can't work.
func (m Mailbox) Validate() error {
	switch {
	case m.Protocol != IMAP && m.Protocol != POP3:
		return fmt.Errorf("fetch: protocol %q: want imap or pop3", m.Protocol)
	case m.Security != Implicit && m.Security != StartTLS && m.Security != None:
		return fmt.Errorf("fetch: security %q: want implicit, starttls or none", m.Security)
	case m.AfterProcessing != "" && m.AfterProcessing != MarkSeen && m.AfterProcessing != Delete:
		return fmt.Errorf("fetch: after processing %q: want seen or delete", m.AfterProcessing)
	case m.Host == "":
		return errors.New("fetch: host is empty")
	case m.Port <= 0 || m.Port > 65535:
		return fmt.Errorf("fetch: port %d is out of range", m.Port)
	case m.Login == "":
		return errors.New("fetch: login is empty")
	}
	return nil
}

// Addr is host:port.
func (m Mailbox) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// tlsConfig is the TLS configuration to use, with ServerName set.
func (m Mailbox) tlsConfig() *tls.Config {
	c := &tls.Config{}
	if m.TLSConfig != nil {
		c = m.TLSConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = m.Host
	}
	return c
}

// Message is one message waiting in a mailbox.
type Message struct {
	// ID is stable across sessions while the message stays in the mailbox:
	// IMAP "<UIDVALIDITY>:<UID>", POP3 the server's UIDL. Store it to skip
	// a message fetched again after a crash.
	ID string
	// Size in octets as the server reports it (IMAP RFC822.SIZE, POP3 LIST).
	Size int64
}

// Client is one session with a mailbox. It is not safe for concurrent use;
// every method takes a context whose deadline or cancellation interrupts the
// network I/O, after which the session is broken: Close it and dial again.
type Client interface {
	// List returns the messages not yet processed, oldest first: IMAP those
	// in INBOX without \Seen, POP3 every message in the maildrop.
	List(ctx context.Context) ([]Message, error)
	// Fetch returns one message's raw RFC 5322 bytes exactly as stored. A
	// message larger than limit octets is not loaded: the error is a
	// *TooLargeError. A message no longer there is ErrNotFound.
	Fetch(ctx context.Context, id string, limit int64) ([]byte, error)
	// MarkProcessed marks one message so that List no longer returns it
	// (see AfterProcessing; for POP3 the deletion commits only on Close).
	MarkProcessed(ctx context.Context, id string) error
	// Close ends the session politely (LOGOUT, QUIT) and closes the
	// connection. For POP3 its error matters: see pop3Client.
	Close() error
}

// Dial connects to the mailbox, encrypts as configured and logs in. It
// returns once the session is ready or ctx ends.
func Dial(ctx context.Context, m Mailbox) (Client, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	dial := dialIMAP
	if m.Protocol == POP3 {
		dial = dialPOP3
	}
	c, err := dial(ctx, m)
	if err != nil {
		return nil, redact(err, m.Password)
	}
	return c, nil
}

// redactedError is an error whose text has the password blacked out: a
// server may echo the login command in its refusal, and the error's text
// goes to the gateway's last_error, the Temporal history and the answer of
// "test connection". Unwrap still reaches the original.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redact blacks out password, as is and as Go quotes it, in err's text.
func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	text := err.Error()
	quoted := strconv.Quote(password)
	for _, s := range []string{password, quoted[1 : len(quoted)-1]} {
		text = strings.ReplaceAll(text, s, "[password]")
	}
	if text == err.Error() {
		return err
	}
	return &redactedError{err: err, text: text}
}

// Test is the "test connection" action: it dials, logs in, lists the
// mailbox and logs out, and returns nil or an error carrying the server's
// own words (wrong password, refused STARTTLS...) for the operator to read.
func Test(ctx context.Context, m Mailbox) error {
	c, err := Dial(ctx, m)
	if err != nil {
		return err
	}
	if _, err := c.List(ctx); err != nil {
		c.Close()
		return err
	}
	return c.Close()
}
