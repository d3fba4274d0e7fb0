package activities_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/dovecottest"
	"github.com/tempobill/billing/mailgateway/fetch"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/store"
)

// processed records the mail ProcessMail got, and fails the mail whose
// body holds fail.
type processed struct {
	mu   sync.Mutex
	got  []activities.ProcessMailInput
	fail string
}

func (p *processed) process(_ context.Context, in activities.ProcessMailInput) (activities.ProcessMailResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, in)
	if p.fail != "" && strings.Contains(string(in.Raw), p.fail) {
		return activities.ProcessMailResult{}, errors.New("database away")
	}
	return activities.ProcessMailResult{Outcome: "ignored"}, nil
}

func (p *processed) bodies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, in := range p.got {
		if in.Raw == nil {
			out = append(out, fmt.Sprintf("too large: %d", in.TooLargeBytes))
			continue
		}
		out = append(out, strings.TrimSpace(string(in.Raw[strings.Index(string(in.Raw), "\r\n\r\n")+4:])))
	}
	return out
}

type pollFixture struct {
	st   *store.Store
	acts *activities.Activities
	key  *secret.Key
	dept int64
}

func newPollFixture(t *testing.T) (pollFixture, *processed) {
	t.Helper()
	st := store.New(dbtest.Pool(t))
	key, _, err := secret.NewKey()
	require.NoError(t, err)
	name := "Poll " + strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36))
	d, err := st.CreateDepartment(t.Context(), billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	p := &processed{}
	return pollFixture{st: st, key: key, dept: d.ID,
		acts: &activities.Activities{Store: st, MailGatewayKey: key, MailProcessor: p.process}}, p
}

// gateway stores a gateway reading addr (host:port) with protocol.
func (f pollFixture) gateway(t *testing.T, protocol, addr, after string, maxBytes int64) billing.MailGateway {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	name := "GW " + protocol + " " + strconv.FormatInt(time.Now().UnixNano(), 36)
	in := billing.MailGatewayInput{Name: &name, Type: ptr(billing.GatewayLocal), Protocol: &protocol, Host: &host, Port: &port,
		Security: ptr("none"), Login: ptr(dovecottest.User), Password: ptr(dovecottest.Password), Address: ptr("gw@example.com"),
		DepartmentID: &f.dept, AfterProcessing: &after, Paused: ptr(true)}
	if maxBytes > 0 {
		in.MaxMessageBytes = &maxBytes
	}
	g, err := f.st.CreateMailGateway(t.Context(), in, f.key)
	require.NoError(t, err)
	return g
}

func ptr[T any](v T) *T { return &v }

func mailNo(i int, body string) []byte {
	return fmt.Appendf(nil, "From: ann@example.com\r\nTo: gw@example.com\r\nSubject: Mail %d\r\nMessage-ID: <m%d.%d@example.com>\r\n\r\n%s\r\n",
		i, i, time.Now().UnixNano(), body)
}

// left lists what is still in the gateway's mailbox (IMAP: unseen).
func left(t *testing.T, f pollFixture, id int64) int {
	t.Helper()
	g, err := f.st.MailGatewayWithPassword(t.Context(), id, f.key)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := fetch.Dial(ctx, activities.GatewayMailbox(g, nil))
	require.NoError(t, err)
	defer c.Close()
	list, err := c.List(ctx)
	require.NoError(t, err)
	return len(list)
}

// TestPollMailbox: against Dovecot, IMAP (mark read, delete) and POP3,
// every mail goes to ProcessMail once; those it took are marked processed;
// the one it failed stays for the next poll, which takes it; a mail over
// the gateway's limit goes to ProcessMail as too large, without its bytes.
func TestPollMailbox(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ proto, after string }{{"imap", "mark_read"}, {"imap", "delete"}, {"pop3", "mark_read"}} {
		t.Run(tc.proto+"/"+tc.after, func(t *testing.T) {
			t.Parallel()
			s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			f, p := newPollFixture(t)
			addr := s.IMAP
			if tc.proto == "pop3" {
				addr = s.POP3
			}
			g := f.gateway(t, tc.proto, addr, tc.after, 2048)
			s.Deliver(t, mailNo(1, "first"))
			s.Deliver(t, mailNo(2, "second FAIL"))
			s.Deliver(t, mailNo(3, "third "+strings.Repeat("x", 4096)))
			s.Deliver(t, mailNo(4, "fourth"))
			p.fail = "FAIL"

			res, err := f.acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: g.ID})
			require.NoError(t, err)
			require.Equal(t, activities.PollMailboxResult{Listed: 4, Processed: 3, Failed: 1}, res)
			bodies := p.bodies()
			require.Len(t, bodies, 4)
			require.Equal(t, []string{"first", "second FAIL"}, bodies[:2])
			require.Contains(t, bodies[2], "too large: ")
			require.Equal(t, "fourth", bodies[3])
			for _, in := range p.got {
				require.Empty(t, in.Gateway.Password, "ProcessMail doesn't get the password")
				require.NotEmpty(t, in.MailboxID)
			}
			require.Equal(t, 1, left(t, f, g.ID), "only the mail ProcessMail failed stays")
			after, err := f.st.MailGateway(t.Context(), g.ID)
			require.NoError(t, err)
			require.NotNil(t, after.LastPollAt)
			require.Contains(t, after.LastError, "1 of 4 messages could not be processed")

			// The next poll takes it, once ProcessMail does.
			p.fail = ""
			res, err = f.acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: g.ID})
			require.NoError(t, err)
			require.Equal(t, activities.PollMailboxResult{Listed: 1, Processed: 1}, res)
			require.Equal(t, "second FAIL", p.bodies()[4])
			require.Equal(t, 0, left(t, f, g.ID))
			after, err = f.st.MailGateway(t.Context(), g.ID)
			require.NoError(t, err)
			require.Empty(t, after.LastError, "a poll that went well clears the error")
		})
	}
}

// TestPollMailboxUnreachable: a server that doesn't answer, or refuses
// the login, is the gateway's last_error and a failed attempt, not a
// crash; a deleted gateway is nothing to do.
func TestPollMailboxUnreachable(t *testing.T) {
	t.Parallel()
	f, p := newPollFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	g := f.gateway(t, "imap", addr, "mark_read", 0)
	_, err = f.acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: g.ID})
	require.ErrorContains(t, err, "connect")
	after, err := f.st.MailGateway(t.Context(), g.ID)
	require.NoError(t, err)
	require.NotNil(t, after.LastPollAt)
	require.Contains(t, after.LastError, "connect")
	require.Empty(t, p.got)

	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	wrong := f.gateway(t, "pop3", s.POP3, "mark_read", 0)
	_, err = f.st.UpdateMailGateway(t.Context(), wrong.ID, billing.MailGatewayInput{Password: ptr("wrong")}, f.key)
	require.NoError(t, err)
	_, err = f.acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: wrong.ID})
	require.ErrorIs(t, err, fetch.ErrAuth)
	// Not retried within the run: more refused logins at once are what
	// gets an account locked out; the next scheduled poll tries again.
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.True(t, ae.NonRetryable(), "a refused login is not retried in the same run")
	after, err = f.st.MailGateway(t.Context(), wrong.ID)
	require.NoError(t, err)
	require.Contains(t, after.LastError, "Authentication failed")

	// Another key (MAIL_GATEWAY_KEY changed) can't open the password: a
	// permanent failure that says why.
	other, _, err := secret.NewKey()
	require.NoError(t, err)
	acts := *f.acts
	acts.MailGatewayKey = other
	_, err = acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: g.ID})
	require.ErrorContains(t, err, "MAIL_GATEWAY_KEY")

	require.NoError(t, f.st.DeleteMailGateway(t.Context(), g.ID))
	res, err := f.acts.PollMailbox(t.Context(), activities.PollMailboxInput{GatewayID: g.ID})
	require.NoError(t, err)
	require.True(t, res.Gone)
}
