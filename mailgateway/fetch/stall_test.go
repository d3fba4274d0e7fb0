package fetch

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stallIdle is the idle timeout of the stall tests: short, so they don't
// wait long; nothing asserts on how long anything took.
const stallIdle = 200 * time.Millisecond

// TestPOP3StallMidRETR: the server sends half a message and then nothing,
// the connection open. Fetch gives up with ErrStalled instead of waiting
// for the context (a poll's is 30 minutes, three attempts), and it is an
// error, never the half.
func TestPOP3StallMidRETR(t *testing.T) {
	t.Parallel()
	m := fakeServer(t, POP3, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "+OK ready\r\n")
		_ = expect(r, w, "USER", "+OK\r\n") &&
			expect(r, w, "PASS", "+OK\r\n") &&
			expect(r, w, "UIDL", "+OK\r\n1 uid-1\r\n.\r\n") &&
			expect(r, w, "LIST", "+OK\r\n1 500\r\n.\r\n") &&
			expect(r, w, "RETR 1", "+OK 500 octets\r\nSubject: half\r\n\r\nthe first line\r\n")
		io.Copy(io.Discard, r) // silent until the client hangs up
	})
	m.IdleTimeout = stallIdle
	c := dialT(t, m)
	got, err := c.Fetch(ctx(t), "uid-1", 1<<20)
	require.Nil(t, got)
	require.ErrorIs(t, err, ErrStalled)
}

// TestIMAPStallMidFetch: the same in the middle of an IMAP literal.
func TestIMAPStallMidFetch(t *testing.T) {
	t.Parallel()
	m := fakeServer(t, IMAP, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
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
				io.WriteString(w, "* 1 FETCH (UID 1 BODY[] {500}\r\nSubject: half\r\n\r\nthe first line\r\n")
				io.Copy(io.Discard, r)
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
	m.IdleTimeout = stallIdle
	c := dialT(t, m)
	got, err := c.Fetch(ctx(t), "7:1", 1<<20)
	require.Nil(t, got)
	require.ErrorIs(t, err, ErrStalled)
}

// TestSlowServerIsNotStalled: a server that sends a message a little at a
// time, each pause shorter than the idle timeout but all of them together
// longer, is read to the end.
func TestSlowServerIsNotStalled(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("line of the message\r\n", 8)
	m := fakeServer(t, POP3, func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "+OK ready\r\n")
		ok := expect(r, w, "USER", "+OK\r\n") &&
			expect(r, w, "PASS", "+OK\r\n") &&
			expect(r, w, "UIDL", "+OK\r\n1 uid-1\r\n.\r\n") &&
			expect(r, w, "LIST", "+OK\r\n1 168\r\n.\r\n") &&
			expect(r, w, "RETR 1", "+OK\r\n")
		if !ok {
			return
		}
		for _, l := range strings.SplitAfter(body, "\r\n") {
			time.Sleep(stallIdle / 2)
			io.WriteString(w, l)
		}
		io.WriteString(w, ".\r\n")
		io.Copy(io.Discard, r)
	})
	m.IdleTimeout = stallIdle
	c := dialT(t, m)
	got, err := c.Fetch(ctx(t), "uid-1", 1<<20)
	require.NoError(t, err)
	require.Equal(t, body, string(got))
}

// TestEndlessLineIsCut: a server whose greeting never ends (no line break
// in 40 MiB) is cut off at maxReplyBytes with ErrTooMuch rather than kept
// whole in memory, however long it goes on.
func TestEndlessLineIsCut(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			m := fakeServer(t, p, func(w io.Writer, r *bufio.Reader) {
				greeting := "+OK "
				if p == IMAP {
					greeting = "* OK "
				}
				io.WriteString(w, greeting)
				chunk := []byte(strings.Repeat("a", 1<<20))
				for range 40 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			})
			_, err := Dial(ctx(t), m)
			// go-imap keeps the text of the error, not the error.
			require.ErrorContains(t, err, ErrTooMuch.Error())
		})
	}
}

// TestLoginErrorHidesPassword: a server that echoes the login command in
// its refusal doesn't put the password into the error, which becomes the
// gateway's last_error, the poll's failure in Temporal and the answer of
// "test connection".
func TestLoginErrorHidesPassword(t *testing.T) {
	t.Parallel()
	const pw = `hunter2 "quoted"`
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			m := fakeServer(t, p, func(w io.Writer, r *bufio.Reader) {
				if p == POP3 {
					io.WriteString(w, "+OK ready\r\n")
					expect(r, w, "USER", "+OK\r\n")
					line, _ := r.ReadString('\n')
					io.WriteString(w, "-ERR unknown command "+strings.TrimSpace(line)+"\r\n")
				} else {
					io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
					line, _ := r.ReadString('\n')
					tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
					io.WriteString(w, tag+" NO [AUTHENTICATIONFAILED] refused: "+cmd+"\r\n")
				}
				io.Copy(io.Discard, r)
			})
			m.Password = pw
			_, err := Dial(ctx(t), m)
			require.Error(t, err)
			t.Log(err)
			require.NotContains(t, err.Error(), "hunter2")
			require.ErrorIs(t, err, ErrAuth)
		})
	}
}
