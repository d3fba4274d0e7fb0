package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// pop3Client is a small POP3 client (RFC 1939, STLS from RFC 2595) on
// net/textproto, since no maintained Go POP3 library is to be had. Message
// IDs are the server's UIDL strings, stable across sessions.
//
// Exactly-once: DELE only marks a message; the server removes it when the
// session ends with QUIT. If the connection drops first, or Close's QUIT
// fails, nothing marked in the session is deleted and every such message is
// listed again next time under the same UIDL. So the gateway stores a
// message, marks it, and on a failed Close expects to see it again and skip
// it by its UIDL. The snapshot is also per session: the maildrop is locked
// while a session is open, so mail arriving meanwhile shows up next session.
type pop3Client struct {
	m    Mailbox
	raw  net.Conn // under any TLS: deadlines set here reach every read
	conn net.Conn
	tp   *textproto.Conn
	msgs []pop3Message // the maildrop when the session began, in order
}

type pop3Message struct {
	num     int
	uidl    string
	size    int64
	deleted bool
}

func dialPOP3(ctx context.Context, m Mailbox) (cl Client, err error) {
	raw, err := dial(ctx, m)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	c := &pop3Client{m: m, raw: raw, conn: raw}
	c.tp = textproto.NewConn(raw)
	if tc, ok := raw.(*tls.Conn); ok {
		c.raw = tc.NetConn()
	}
	stop := bound(ctx, c.raw)
	defer stop()
	defer func() {
		if err != nil {
			c.conn.Close()
			err = ctxErr(ctx, err)
		}
	}()

	if _, err := c.reply(); err != nil {
		return nil, fmt.Errorf("fetch: pop3 greeting from %s: %w", m.Addr(), err)
	}
	if m.Security == StartTLS {
		if _, err := c.cmd("STLS"); err != nil {
			return nil, fmt.Errorf("fetch: pop3 STLS with %s: %w", m.Addr(), err)
		}
		tc := tls.Client(raw, m.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("fetch: pop3 TLS handshake with %s: %w", m.Addr(), err)
		}
		c.conn, c.tp = tc, textproto.NewConn(tc)
	}
	if _, err := c.cmd("USER %s", m.Login); err != nil {
		return nil, c.loginError(err)
	}
	if _, err := c.cmd("PASS %s", m.Password); err != nil {
		return nil, c.loginError(err)
	}
	if err := c.scan(); err != nil {
		return nil, err
	}
	return c, nil
}

// loginError: a -ERR reply is the server refusing the login; anything else
// (a dropped connection) is not.
func (c *pop3Client) loginError(err error) error {
	var se *pop3Error
	if errors.As(err, &se) {
		return authError("pop3", err)
	}
	return fmt.Errorf("fetch: pop3 login: %w", err)
}

// scan reads the maildrop: UIDL for identities, LIST for sizes.
func (c *pop3Client) scan() error {
	uidls, err := c.multi("UIDL")
	if err != nil {
		return fmt.Errorf("fetch: pop3 UIDL: %w", err)
	}
	sizes, err := c.multi("LIST")
	if err != nil {
		return fmt.Errorf("fetch: pop3 LIST: %w", err)
	}
	sizeOf := map[int]int64{}
	for _, l := range sizes {
		n, v, err := numAndValue(l)
		if err != nil {
			return fmt.Errorf("fetch: pop3 LIST: %w", err)
		}
		size, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("fetch: pop3 LIST line %q: %w", l, err)
		}
		sizeOf[n] = size
	}
	for _, l := range uidls {
		n, uidl, err := numAndValue(l)
		if err != nil {
			return fmt.Errorf("fetch: pop3 UIDL: %w", err)
		}
		c.msgs = append(c.msgs, pop3Message{num: n, uidl: uidl, size: sizeOf[n]})
	}
	return nil
}

// List returns the session's snapshot without the messages marked so far.
func (c *pop3Client) List(ctx context.Context) ([]Message, error) {
	var out []Message
	for _, msg := range c.msgs {
		if !msg.deleted {
			out = append(out, Message{ID: msg.uidl, Size: msg.size})
		}
	}
	return out, ctx.Err()
}

// Fetch checks LIST's size, then RETRs the message. DotReader undoes the
// dot-stuffing and turns the wire's CRLF into LF; Fetch puts the CRLF back,
// so the bytes are the message as the server stores it. A connection that
// drops before the terminating "." is an error (io.ErrUnexpectedEOF), never
// a shorter message.
func (c *pop3Client) Fetch(ctx context.Context, id string, limit int64) ([]byte, error) {
	msg, err := c.find(id)
	if err != nil {
		return nil, err
	}
	if msg.size > limit {
		return nil, &TooLargeError{ID: id, Size: msg.size, Limit: limit}
	}
	stop := bound(ctx, c.raw)
	defer stop()
	allowMessage(c.raw, limit)
	if _, err := c.cmd("RETR %d", msg.num); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: pop3 RETR %s: %w", id, err))
	}
	dr := c.tp.DotReader()
	lf, err := io.ReadAll(io.LimitReader(dr, limit+1))
	if err == nil && int64(len(lf)) > limit {
		// The server understated the size: skip the rest, keep the session.
		_, err = io.Copy(io.Discard, dr)
		if err == nil {
			return nil, &TooLargeError{ID: id, Size: int64(len(lf)), Limit: limit}
		}
	}
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: pop3 RETR %s: reading the message: %w", id, err))
	}
	raw := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	if int64(len(raw)) > limit {
		return nil, &TooLargeError{ID: id, Size: int64(len(raw)), Limit: limit}
	}
	return raw, nil
}

// MarkProcessed sends DELE: the deletion commits only when Close's QUIT
// succeeds (see pop3Client).
func (c *pop3Client) MarkProcessed(ctx context.Context, id string) error {
	msg, err := c.find(id)
	if err != nil {
		return err
	}
	stop := bound(ctx, c.raw)
	defer stop()
	if _, err := c.cmd("DELE %d", msg.num); err != nil {
		return ctxErr(ctx, fmt.Errorf("fetch: pop3 DELE %s: %w", id, err))
	}
	msg.deleted = true
	return nil
}

// Close sends QUIT, which commits the session's DELEs, and closes the
// connection. An error means the deletions may not have happened.
func (c *pop3Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
	defer cancel()
	stop := bound(ctx, c.raw)
	_, err := c.cmd("QUIT")
	stop()
	if cerr := c.conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch: pop3 QUIT (messages marked in this session may not be deleted): %w", err)
	}
	return nil
}

func (c *pop3Client) find(id string) (*pop3Message, error) {
	for i := range c.msgs {
		if c.msgs[i].uidl == id && !c.msgs[i].deleted {
			return &c.msgs[i], nil
		}
	}
	return nil, fmt.Errorf("%w: pop3 %s", ErrNotFound, id)
}

// pop3Error is a -ERR reply: the server's own words.
type pop3Error struct{ text string }

func (e *pop3Error) Error() string { return "server said -ERR " + e.text }

// cmd sends one command and reads its single-line reply.
func (c *pop3Client) cmd(format string, args ...any) (string, error) {
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return "", err
	}
	return c.reply()
}

// reply reads "+OK text" or "-ERR text".
func (c *pop3Client) reply() (string, error) {
	line, err := c.tp.ReadLine()
	if err != nil {
		return "", err
	}
	if text, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(text), nil
	}
	if text, ok := strings.CutPrefix(line, "-ERR"); ok {
		return "", &pop3Error{text: strings.TrimSpace(text)}
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// multi sends a command with a multi-line reply and returns its lines.
func (c *pop3Client) multi(cmd string) ([]string, error) {
	if _, err := c.cmd("%s", cmd); err != nil {
		return nil, err
	}
	return c.tp.ReadDotLines()
}

// numAndValue splits "<msg number> <value>".
func numAndValue(line string) (int, string, error) {
	n, v, ok := strings.Cut(strings.TrimSpace(line), " ")
	num, err := strconv.Atoi(n)
	if !ok || err != nil || num <= 0 || v == "" {
		return 0, "", fmt.Errorf("malformed line %q", line)
	}
	return num, v, nil
}
