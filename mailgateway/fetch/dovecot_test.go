package fetch

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/dovecottest"
)

// TestListFetchMarkProcessed: on both protocols, against Dovecot, every
// delivered message is listed with its size, comes back byte-exact, and once
// marked processed is gone from the listing in this session and the next.
func TestListFetchMarkProcessed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		proto Protocol
		after AfterProcessing
	}{{IMAP, MarkSeen}, {IMAP, Delete}, {POP3, Delete}}
	for _, tc := range cases {
		t.Run(string(tc.proto)+"/"+string(tc.after), func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			raws := [][]byte{msg(1, "first\r\n"), msg(2, "second\r\n"), msg(3, "third\r\n")}
			for _, r := range raws {
				s.Deliver(t, r)
			}
			m := dovecotMailbox(t, s, tc.proto)
			m.AfterProcessing = tc.after

			c := dialT(t, m)
			list, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Len(t, list, 3)
			for i, l := range list {
				require.Equal(t, int64(len(raws[i])), l.Size)
				got, err := c.Fetch(ctx(t), l.ID, 1<<20)
				require.NoError(t, err)
				require.Equal(t, string(raws[i]), string(got))
			}
			// Fetching doesn't mark anything.
			again, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Equal(t, ids(list), ids(again))

			require.NoError(t, c.MarkProcessed(ctx(t), list[1].ID))
			after, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Equal(t, []string{list[0].ID, list[2].ID}, ids(after))
			require.NoError(t, c.Close())

			next := dialT(t, m)
			after, err = next.List(ctx(t))
			require.NoError(t, err)
			require.Equal(t, []string{list[0].ID, list[2].ID}, ids(after), "a new session must not list the processed message")
			_, err = next.Fetch(ctx(t), list[1].ID, 1<<20)
			if tc.after == MarkSeen {
				// Seen, not gone: still there to read.
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrNotFound)
			}
		})
	}
}

// TestIDsStableAcrossSessions: UIDLs and UIDVALIDITY:UID stay the same for
// the same messages in a later session, and a new message gets a new one.
func TestIDsStableAcrossSessions(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			s.Deliver(t, msg(1, "a\r\n"))
			s.Deliver(t, msg(2, "b\r\n"))
			m := dovecotMailbox(t, s, p)

			first := listOnce(t, m)
			require.Len(t, first, 2)
			s.Deliver(t, msg(3, "c\r\n"))
			second := listOnce(t, m)
			require.Len(t, second, 3)
			require.Equal(t, ids(first), ids(second[:2]))
			require.NotContains(t, ids(first), second[2].ID)
		})
	}
}

func listOnce(t *testing.T, m Mailbox) []Message {
	t.Helper()
	c, err := Dial(ctx(t), m)
	require.NoError(t, err)
	defer c.Close()
	list, err := c.List(ctx(t))
	require.NoError(t, err)
	return list
}

// TestDotStuffingByteExact: lines starting with "." and a line of just "."
// (which POP3 must dot-stuff on the wire), even as the last line, come back
// exactly as stored. (The message ends in CRLF: POP3 can't carry a message
// without a final line break, its servers add one.)
func TestDotStuffingByteExact(t *testing.T) {
	t.Parallel()
	raw := msg(1, ".foo\r\n.\r\n..\r\nmiddle . dot\r\n.\r\n\r\n.end\r\n.\r\n")
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			s.Deliver(t, raw)
			c := dialT(t, dovecotMailbox(t, s, p))
			list, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Len(t, list, 1)
			got, err := c.Fetch(ctx(t), list[0].ID, 1<<20)
			require.NoError(t, err)
			require.Equal(t, string(raw), string(got))
		})
	}
}

// TestSizeLimit: a message over the limit is reported, not loaded, and the
// session goes on (the next message still fetches).
func TestSizeLimit(t *testing.T) {
	t.Parallel()
	big := msg(1, strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 200))
	small := msg(2, "small\r\n")
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			s.Deliver(t, big)
			s.Deliver(t, small)
			c := dialT(t, dovecotMailbox(t, s, p))
			list, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Len(t, list, 2)

			got, err := c.Fetch(ctx(t), list[0].ID, 4096)
			require.Nil(t, got)
			var tl *TooLargeError
			require.ErrorAs(t, err, &tl)
			require.Equal(t, int64(len(big)), tl.Size)
			require.Equal(t, int64(4096), tl.Limit)

			got, err = c.Fetch(ctx(t), list[1].ID, 4096)
			require.NoError(t, err)
			require.Equal(t, string(small), string(got))
			// Exactly at the limit is allowed.
			_, err = c.Fetch(ctx(t), list[1].ID, int64(len(small)))
			require.NoError(t, err)
		})
	}
}

// TestWrongPassword: Test answers ErrAuth with Dovecot's own words.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			// A server each: Dovecot delays a client IP's repeated failures.
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			m := dovecotMailbox(t, s, p)
			m.Password = "wrong"
			err := Test(ctx(t), m)
			require.ErrorIs(t, err, ErrAuth)
			require.Contains(t, err.Error(), "Authentication failed")
			t.Log(err)
		})
	}
}

// TestConnectionTestOK: Test succeeds on good settings, over every kind of
// security, with the self-signed certificate trusted.
func TestConnectionTestOK(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	cases := []struct {
		proto Protocol
		sec   Security
		addr  string
	}{
		{IMAP, None, s.IMAP}, {IMAP, StartTLS, s.IMAP}, {IMAP, Implicit, s.IMAPS},
		{POP3, None, s.POP3}, {POP3, StartTLS, s.POP3}, {POP3, Implicit, s.POP3S},
	}
	for _, tc := range cases {
		t.Run(string(tc.proto)+"/"+string(tc.sec), func(t *testing.T) {
			t.Parallel()
			s.Deliver(t, msg(1, "over TLS\r\n"))
			m := Mailbox{Protocol: tc.proto, Host: "127.0.0.1", Port: port(t, tc.addr), Security: tc.sec,
				Login: dovecottest.User, Password: dovecottest.Password, TLSConfig: s.TLSConfig()}
			require.NoError(t, Test(ctx(t), m))

			// Without trusting the certificate, TLS must fail, not fall back.
			if tc.sec != None {
				m.TLSConfig = nil
				err := Test(ctx(t), m)
				require.Error(t, err)
				require.Contains(t, err.Error(), "certificate")
			}
		})
	}
}

// TestStartTLSRefused: a server without TLS refuses STARTTLS/STLS; the
// error carries its reply and the password is never sent in the clear.
func TestStartTLSRefused(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			m := dovecotMailbox(t, s, p)
			m.Security = StartTLS
			err := Test(ctx(t), m)
			require.Error(t, err)
			require.NotErrorIs(t, err, ErrAuth)
			if p == POP3 {
				require.Contains(t, err.Error(), "STLS")
				require.Contains(t, err.Error(), "-ERR")
			} else {
				require.Contains(t, err.Error(), "STARTTLS")
			}
			t.Log(err)
		})
	}
}

// TestServerDown: a closed port is a connect error, for both protocols.
func TestServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	for _, p := range protocols {
		m := Mailbox{Protocol: p, Host: "127.0.0.1", Port: closed, Security: None, Login: "x", Password: "y"}
		err := Test(ctx(t), m)
		require.Error(t, err)
		require.Contains(t, err.Error(), "connection refused")
	}
}

// TestPOP3DropBeforeQuitKeepsMessages: DELE without a successful QUIT
// deletes nothing, so the message is listed again under the same UIDL; this
// is why the gateway must skip UIDLs it has already stored.
func TestPOP3DropBeforeQuitKeepsMessages(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	s.Deliver(t, msg(1, "kept\r\n"))
	m := dovecotMailbox(t, s, POP3)

	c, err := Dial(ctx(t), m)
	require.NoError(t, err)
	list, err := c.List(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, c.MarkProcessed(ctx(t), list[0].ID))
	require.NoError(t, c.(*pop3Client).conn.Close()) // the connection drops before QUIT
	require.Error(t, c.Close(), "Close must say the deletions may not have happened")

	again := listOnce(t, m)
	require.Equal(t, ids(list), ids(again))
}

// TestContextDeadline: a server that accepts but never greets holds Dial
// only until the context's deadline; so does one that stalls mid-session.
func TestContextDeadline(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // silent until the test ends
		}
	}()
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			m := Mailbox{Protocol: p, Host: "127.0.0.1", Port: port(t, ln.Addr().String()), Security: None, Login: "x", Password: "y"}
			c, cancel := context.WithCancel(ctx(t))
			cancel()
			_, err := Dial(c, m)
			require.ErrorIs(t, err, context.Canceled)

			short, cancel := context.WithTimeout(ctx(t), 1)
			defer cancel()
			_, err = Dial(short, m)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.False(t, errors.Is(err, io.EOF))
		})
	}
}
