package fetch

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// logoutTimeout bounds the polite goodbye (LOGOUT, QUIT) in Close, which
// takes no context: a server that stopped answering must not hold it up.
const logoutTimeout = 5 * time.Second

// dial opens the TCP connection, with the TLS handshake done when the
// security is Implicit, both bounded by ctx.
func dial(ctx context.Context, m Mailbox) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr())
	if err != nil {
		return nil, fmt.Errorf("fetch: %s connect %s: %w", m.Protocol, m.Addr(), err)
	}
	if m.Security != Implicit {
		return conn, nil
	}
	tc := tls.Client(conn, m.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("fetch: %s TLS handshake with %s: %w", m.Protocol, m.Addr(), err)
	}
	return tc, nil
}

// bound makes ctx govern the I/O on conn until the returned stop is called:
// the deadline becomes the connection's, and cancellation unblocks any read
// or write at once. A read or write cut short leaves the protocol state
// unknown, so the caller treats the session as broken.
func bound(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stopAfter := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stopAfter()
		conn.SetDeadline(time.Time{})
	}
}

// ctxErr prefers the context's error (deadline, cancellation) over the
// network error it caused, so callers can tell a timeout with errors.Is.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}
