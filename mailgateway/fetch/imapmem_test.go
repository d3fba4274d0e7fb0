package fetch

import (
	"bytes"
	"net"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/stretchr/testify/require"
)

// literal is an imap.LiteralReader over bytes, for Append.
type literal struct {
	*bytes.Reader
}

// startIMAPMem runs go-imap's in-memory server with one user whose INBOX
// holds raws; uidplus chooses whether it offers UID EXPUNGE.
func startIMAPMem(t *testing.T, uidplus bool, raws ...[]byte) Mailbox {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("gateway", "pw")
	require.NoError(t, user.Create("INBOX", nil))
	for _, r := range raws {
		_, err := user.Append("INBOX", literal{bytes.NewReader(r)}, &imap.AppendOptions{})
		require.NoError(t, err)
	}
	mem.AddUser(user)
	caps := imap.CapSet{imap.CapIMAP4rev1: {}}
	if uidplus {
		caps[imap.CapUIDPlus] = struct{}{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Mailbox{Protocol: IMAP, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Security: None, Login: "gateway", Password: "pw"}
}

// TestIMAPMemServer: the same list/fetch/mark cycle against go-imap's own
// server, with and without UIDPLUS (plain EXPUNGE then).
func TestIMAPMemServer(t *testing.T) {
	t.Parallel()
	raws := [][]byte{msg(1, "one\r\n"), msg(2, ".two\r\n.\r\n")}
	for _, tc := range []struct {
		name    string
		uidplus bool
		after   AfterProcessing
	}{{"seen", true, MarkSeen}, {"delete-uidplus", true, Delete}, {"delete-expunge", false, Delete}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startIMAPMem(t, tc.uidplus, raws...)
			m.AfterProcessing = tc.after
			c := dialT(t, m)
			list, err := c.List(ctx(t))
			require.NoError(t, err)
			require.Len(t, list, 2)
			for i, l := range list {
				got, err := c.Fetch(ctx(t), l.ID, 1<<20)
				require.NoError(t, err)
				require.Equal(t, string(raws[i]), string(got))
			}
			require.NoError(t, c.MarkProcessed(ctx(t), list[0].ID))
			require.NoError(t, c.Close())

			again := listOnce(t, m)
			require.Equal(t, []string{list[1].ID}, ids(again))

			m.Password = "wrong"
			require.ErrorIs(t, Test(ctx(t), m), ErrAuth)
		})
	}
}
