package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultIdleTimeout is how long a server may send nothing while an answer
// is awaited (Mailbox.IdleTimeout when zero). Without it a server that
// stops mid-FETCH or mid-RETR, with the connection open, would hold the
// poll until its context ends, however far off that is.
const DefaultIdleTimeout = 2 * time.Minute

// ErrStalled: the server sent nothing for the idle timeout while an answer
// was awaited; the session is broken.
var ErrStalled = errors.New("fetch: the server stopped answering")

// maxReplyBytes is the most a server may send in answer to one command
// (and in the greeting, and between commands) but a message's fetch: the
// protocol libraries keep a line, or an IMAP string, whole in memory, so a
// server sending an endless one would otherwise grow the worker without
// bound.
const maxReplyBytes = 32 << 20

// ErrTooMuch: the server sent more than an answer can hold; the session
// is broken.
var ErrTooMuch = errors.New("fetch: the server sent more than an answer can hold")

// progressConn counts the bytes read, so that bound can tell a server that
// is slowly sending a big message from one that stalled, and stops reading
// once the answer's budget (allow) is spent.
type progressConn struct {
	net.Conn
	idle    time.Duration
	n       atomic.Int64
	stalled atomic.Bool
	left    atomic.Int64 // bytes the current answer may still take
}

// allow sets how many bytes may be read from now until the next allow.
func (c *progressConn) allow(n int64) { c.left.Store(n) }

func (c *progressConn) Read(p []byte) (int, error) {
	left := c.left.Load()
	if left <= 0 {
		return 0, fmt.Errorf("%w (over %d bytes)", ErrTooMuch, maxReplyBytes)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	c.left.Add(-int64(n))
	if err != nil && c.stalled.Load() {
		err = fmt.Errorf("%w (nothing for %s): %w", ErrStalled, c.idle, err)
	}
	return n, err
}

// progressOf is the progressConn under conn (under its TLS), or nil.
func progressOf(conn net.Conn) *progressConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	pc, _ := conn.(*progressConn)
	return pc
}

// logoutTimeout bounds the polite goodbye (LOGOUT, QUIT) in Close, which
// takes no context: a server that stopped answering must not hold it up.
const logoutTimeout = 5 * time.Second

// dial opens the TCP connection, with the TLS handshake done when the
// security is Implicit, both bounded by ctx.
func dial(ctx context.Context, m Mailbox) (net.Conn, error) {
	d := net.Dialer{Timeout: m.idleTimeout()}
	tcp, err := d.DialContext(ctx, "tcp", m.Addr())
	if err != nil {
		return nil, fmt.Errorf("fetch: %s connect %s: %w", m.Protocol, m.Addr(), err)
	}
	conn := &progressConn{Conn: tcp, idle: m.idleTimeout()}
	conn.allow(maxReplyBytes)
	if m.Security != Implicit {
		return conn, nil
	}
	tc := tls.Client(conn, m.tlsConfig())
	stop := bound(ctx, conn)
	err = tc.HandshakeContext(ctx)
	stop()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("fetch: %s TLS handshake with %s: %w", m.Protocol, m.Addr(), err)
	}
	return tc, nil
}

// bound makes ctx govern the I/O on conn until the returned stop is called:
// the deadline becomes the connection's, and cancellation unblocks any read
// or write at once. So does a server that sends nothing for the idle
// timeout (see progressConn): its reads fail with ErrStalled. A read or
// write cut short leaves the protocol state unknown, so the caller treats
// the session as broken. Each bound exchange may read maxReplyBytes (see
// progressConn.allow).
func bound(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	cut := func() { conn.SetDeadline(time.Unix(1, 0)) }
	stopAfter := context.AfterFunc(ctx, cut)
	var (
		mu      sync.Mutex
		stopped bool
		timer   *time.Timer
	)
	pc := progressOf(conn)
	if pc != nil {
		pc.allow(maxReplyBytes)
	}
	if pc != nil && pc.idle > 0 {
		last := pc.n.Load()
		var check func()
		check = func() {
			mu.Lock()
			defer mu.Unlock()
			if stopped {
				return
			}
			if n := pc.n.Load(); n != last {
				last = n
				timer = time.AfterFunc(pc.idle, check)
				return
			}
			pc.stalled.Store(true)
			cut()
		}
		mu.Lock()
		timer = time.AfterFunc(pc.idle, check)
		mu.Unlock()
	}
	return func() {
		stopAfter()
		mu.Lock()
		stopped = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
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

// allowMessage lets the exchange bound on conn read a message of up to
// limit octets (twice that: POP3 dot-stuffing, IMAP's answer around it)
// besides an answer's worth.
func allowMessage(conn net.Conn, limit int64) {
	if pc := progressOf(conn); pc != nil {
		pc.allow(maxReplyBytes + 2*limit)
	}
}
