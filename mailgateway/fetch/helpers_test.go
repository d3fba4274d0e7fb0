package fetch

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/dovecottest"
)

// protocols runs a subtest for each protocol.
var protocols = []Protocol{IMAP, POP3}

// dovecotMailbox points at s's plain listener for p, without TLS.
func dovecotMailbox(t *testing.T, s *dovecottest.Server, p Protocol) Mailbox {
	t.Helper()
	addr := s.IMAP
	if p == POP3 {
		addr = s.POP3
	}
	return Mailbox{Protocol: p, Host: "127.0.0.1", Port: port(t, addr), Security: None,
		Login: dovecottest.User, Password: dovecottest.Password}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

// ctx is a test's context with a generous deadline, so that a hung server
// fails the test instead of hanging it; no test asserts on timing.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// dialT dials and closes at the end of the test (a second Close is harmless).
func dialT(t *testing.T, m Mailbox) Client {
	t.Helper()
	c, err := Dial(ctx(t), m)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// msg builds a small CRLF message with a unique Message-ID.
func msg(n int, body string) []byte {
	return []byte(fmt.Sprintf("From: customer%d@example.test\r\nTo: support@example.test\r\n"+
		"Subject: Question %d\r\nMessage-ID: <q%d@example.test>\r\n\r\n%s", n, n, n, body))
}

func ids(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}
