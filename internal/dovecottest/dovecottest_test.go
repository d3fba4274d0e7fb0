package dovecottest_test

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/dovecottest"
)

// TestStart proves the instance answers on its POP3 port and knows the user.
func TestStart(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{})
	s.Deliver(t, []byte("Subject: hi\r\n\r\nbody\r\n"))
	c, err := net.Dial("tcp", s.POP3)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	line := func(cmd string) string {
		if cmd != "" {
			_, err := c.Write([]byte(cmd + "\r\n"))
			require.NoError(t, err)
		}
		l, err := r.ReadString('\n')
		require.NoError(t, err)
		return l
	}
	require.True(t, strings.HasPrefix(line(""), "+OK"))
	require.True(t, strings.HasPrefix(line("USER "+dovecottest.User), "+OK"))
	require.True(t, strings.HasPrefix(line("PASS "+dovecottest.Password), "+OK"), s.Log())
	require.Equal(t, "+OK 1 ", line("STAT")[:6])
}
