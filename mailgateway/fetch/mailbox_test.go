package fetch

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidate: each setting that can't work is named; a good one passes.
func TestValidate(t *testing.T) {
	t.Parallel()
	good := Mailbox{Protocol: IMAP, Host: "mail.example.test", Port: 993, Security: Implicit, Login: "support"}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		change func(*Mailbox)
		want   string
	}{
		{func(m *Mailbox) { m.Protocol = "smtp" }, "protocol"},
		{func(m *Mailbox) { m.Security = "ssl" }, "security"},
		{func(m *Mailbox) { m.AfterProcessing = "archive" }, "after processing"},
		{func(m *Mailbox) { m.Host = "" }, "host"},
		{func(m *Mailbox) { m.Port = 0 }, "port"},
		{func(m *Mailbox) { m.Port = 70000 }, "port"},
		{func(m *Mailbox) { m.Login = "" }, "login"},
	} {
		m := good
		tc.change(&m)
		err := m.Validate()
		require.ErrorContains(t, err, tc.want)
		_, err = Dial(ctx(t), m)
		require.ErrorContains(t, err, tc.want, "Dial validates first")
	}
}

// TestIMAPIDs: a malformed ID is refused; one from another UIDVALIDITY (the
// mailbox was recreated) and a UID no longer there are ErrNotFound.
func TestIMAPIDs(t *testing.T) {
	t.Parallel()
	m := startIMAPMem(t, true, msg(1, "x\r\n"))
	c := dialT(t, m)
	list, err := c.List(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = c.Fetch(ctx(t), "not-an-id", 1<<20)
	require.ErrorContains(t, err, "not an IMAP message ID")
	require.NotErrorIs(t, err, ErrNotFound)

	_, err = c.Fetch(ctx(t), "999:1", 1<<20)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, c.MarkProcessed(ctx(t), "999:1"), ErrNotFound)

	validity, _, _ := strings.Cut(list[0].ID, ":")
	_, err = c.Fetch(ctx(t), validity+":42", 1<<20)
	require.ErrorIs(t, err, ErrNotFound)
}

// TestPOP3UnknownID: an unknown UIDL is ErrNotFound for Fetch and Mark.
func TestPOP3UnknownID(t *testing.T) {
	t.Parallel()
	m := fakeServer(t, POP3, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "+OK ready\r\n")
		_ = expect(r, w, "USER", "+OK\r\n") &&
			expect(r, w, "PASS", "+OK\r\n") &&
			expect(r, w, "UIDL", "+OK\r\n.\r\n") &&
			expect(r, w, "LIST", "+OK\r\n.\r\n") &&
			expect(r, w, "QUIT", "+OK bye\r\n")
	})
	c := dialT(t, m)
	list, err := c.List(ctx(t))
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = c.Fetch(ctx(t), "nope", 1<<20)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, c.MarkProcessed(ctx(t), "nope"), ErrNotFound)
	require.NoError(t, c.Close())
}
