package fetch

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeServer accepts one connection and runs script on it, then closes it:
// for the misbehaviour no real server can be told to do.
func fakeServer(t *testing.T, proto Protocol, script func(w io.Writer, r *bufio.Reader)) Mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		script(c, bufio.NewReader(c))
	}()
	return Mailbox{Protocol: proto, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Security: None, Login: "u", Password: "p"}
}

// expect reads one command line and answers it.
func expect(r *bufio.Reader, w io.Writer, prefix, answer string) bool {
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		return false
	}
	_, err = io.WriteString(w, answer)
	return err == nil
}

// TestPOP3DropMidRETR: the connection drops after half a message; Fetch
// is an error, never the half.
func TestPOP3DropMidRETR(t *testing.T) {
	t.Parallel()
	m := fakeServer(t, POP3, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "+OK ready\r\n")
		_ = expect(r, w, "USER", "+OK\r\n") &&
			expect(r, w, "PASS", "+OK\r\n") &&
			expect(r, w, "UIDL", "+OK\r\n1 uid-1\r\n.\r\n") &&
			expect(r, w, "LIST", "+OK\r\n1 500\r\n.\r\n") &&
			expect(r, w, "RETR 1", "+OK 500 octets\r\nSubject: half\r\n\r\nthe first line\r\n")
	})
	c := dialT(t, m)
	list, err := c.List(ctx(t))
	require.NoError(t, err)
	require.Equal(t, []Message{{ID: "uid-1", Size: 500}}, list)
	got, err := c.Fetch(ctx(t), "uid-1", 1<<20)
	require.Nil(t, got)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestIMAPDropMidFetch: the same in the middle of an IMAP literal.
func TestIMAPDropMidFetch(t *testing.T) {
	t.Parallel()
	m := fakeServer(t, IMAP, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
		// Answer by command, not in a fixed order: the client may or may
		// not ask for CAPABILITY after LOGIN.
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(line, " ")
			var answer string
			switch {
			case strings.HasPrefix(cmd, "LOGIN"):
				answer = tag + " OK [CAPABILITY IMAP4rev1] in\r\n"
			case strings.HasPrefix(cmd, "CAPABILITY"):
				answer = "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n"
			case strings.HasPrefix(cmd, "SELECT"):
				answer = "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 2] n\r\n" + tag + " OK [READ-WRITE] done\r\n"
			case strings.HasPrefix(cmd, "UID FETCH") && strings.Contains(cmd, "BODY"):
				// Half of the announced 500 octets, then the connection drops.
				io.WriteString(w, "* 1 FETCH (UID 1 BODY[] {500}\r\nSubject: half\r\n\r\nthe first line\r\n")
				return
			case strings.HasPrefix(cmd, "UID FETCH"):
				answer = "* 1 FETCH (UID 1 RFC822.SIZE 500)\r\n" + tag + " OK done\r\n"
			default:
				answer = tag + " BAD unexpected\r\n"
			}
			if _, err := io.WriteString(w, answer); err != nil {
				return
			}
		}
	})
	c := dialT(t, m)
	got, err := c.Fetch(ctx(t), "7:1", 1<<20)
	require.Nil(t, got)
	require.Error(t, err)
	t.Log(err)
}
