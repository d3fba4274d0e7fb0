package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/dovecottest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/mailgateway/fetch"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/workflows"
)

// The end-to-end tests of issue 14 live here, not in the api package: the
// API's tests have no worker, and these need the whole system a deployment
// runs (Main's API and worker on a real Temporal server, Postgres, Dovecot
// and an SMTP server), and the kill test needs a worker process to kill.

// gatewayTicket is a ticket as GET /tickets and /tickets/{id} show it.
type gatewayTicket struct {
	ID           int64  `json:"id"`
	DepartmentID int64  `json:"department_id"`
	CustomerID   int64  `json:"customer_id"`
	Source       string `json:"source"`
	Messages     []struct {
		Body         string `json:"body"`
		AuthorUserID *int64 `json:"author_user_id"`
	} `json:"messages"`
}

// staffToken creates a staff member in departments and returns a session
// token of theirs.
func staffToken(t *testing.T, st *store.Store, login, role string, perms []string, departments ...int64) string {
	t.Helper()
	ctx := t.Context()
	s, err := st.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example", Name: login, Role: role,
		Permissions: perms, DepartmentIDs: departments}, "x")
	require.NoError(t, err)
	token := "bs_" + rand.Text()
	sum := sha256.Sum256([]byte(token))
	_, err = st.CreateSession(ctx, store.Session{Kind: billing.ActorStaff, StaffID: s.ID, ExpiresAt: time.Now().Add(time.Hour)}, sum[:])
	require.NoError(t, err)
	return token
}

// createGateway creates, through the API, a gateway of dept reading
// Dovecot's mailbox over protocol (plain text: a local server) for address.
func createGateway(t *testing.T, apiURL, admin, protocol, addr, address string, dept int64) int64 {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	var g struct {
		ID            int64
		ScheduleError string `json:"schedule_error"`
	}
	call(t, admin, "POST", apiURL+"/api/v1/mail-gateways", fmt.Sprintf(`{"name": "Tech %s %s", "type": "local", "protocol": %q,
		"host": %q, "port": %s, "security": "none", "login": %q, "password": %q, "address": %q, "department_id": %d,
		"poll_seconds": 30, "after_processing": "mark_read"}`, protocol, rand.Text()[:6], protocol, host, portText,
		dovecottest.User, dovecottest.Password, address, dept), http.StatusCreated, &g)
	require.Empty(t, g.ScheduleError)
	var test struct {
		OK    bool
		Error string
	}
	call(t, admin, "POST", fmt.Sprintf("%s/api/v1/mail-gateways/%d/test", apiURL, g.ID), "", http.StatusOK, &test)
	require.True(t, test.OK, "test connection: %s", test.Error)
	return g.ID
}

// pollUntil asks gateway id to poll now and waits until done says the
// outcome is there; a poll that finished without it (a scheduled run that
// listed the mailbox before the mail arrived) is followed by another.
func pollUntil(t *testing.T, apiURL, admin string, id int64, what string, done func() bool) {
	t.Helper()
	lastPoll := func() (string, string) {
		var g struct {
			LastPollAt *string `json:"last_poll_at"`
			LastError  string  `json:"last_error"`
		}
		call(t, admin, "GET", fmt.Sprintf("%s/api/v1/mail-gateways/%d", apiURL, id), "", http.StatusOK, &g)
		if g.LastPollAt == nil {
			return "", g.LastError
		}
		return *g.LastPollAt, g.LastError
	}
	seen, _ := lastPoll()
	call(t, admin, "POST", fmt.Sprintf("%s/api/v1/mail-gateways/%d/poll", apiURL, id), "", http.StatusAccepted, nil)
	require.Eventually(t, func() bool {
		if done() {
			return true
		}
		if at, lastErr := lastPoll(); at != seen {
			require.Empty(t, lastErr, "the poll's last_error")
			seen = at
			call(t, admin, "POST", fmt.Sprintf("%s/api/v1/mail-gateways/%d/poll", apiURL, id), "", http.StatusAccepted, nil)
		}
		return false
	}, 3*time.Minute, 200*time.Millisecond, "poll: %s", what)
}

// unprocessed lists what the gateway's poll would still take from Dovecot
// (IMAP: unseen mail; POP3: any).
func unprocessed(t *testing.T, protocol, addr string) int {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := fetch.Dial(ctx, fetch.Mailbox{Protocol: fetch.Protocol(protocol), Host: host, Port: port, Security: fetch.Security("none"),
		Login: dovecottest.User, Password: dovecottest.Password, AfterProcessing: fetch.MarkSeen})
	require.NoError(t, err)
	defer c.Close()
	list, err := c.List(ctx)
	require.NoError(t, err)
	return len(list)
}

// redeliver runs the notice redelivery schedule now (it sends queued
// notices every minute) until the SMTP server holds a mail match accepts.
func redeliver(t *testing.T, tc tclient.Client, smtpd *smtptest.Server, what string, match func(smtptest.Message) bool) smtptest.Message {
	t.Helper()
	var found smtptest.Message
	h := tc.ScheduleClient().GetHandle(t.Context(), workflows.RedeliveryScheduleID)
	next := time.Now()
	require.Eventually(t, func() bool {
		for _, m := range smtpd.Messages() {
			if match(m) {
				found = m
				return true
			}
		}
		if time.Now().After(next) {
			_ = h.Trigger(t.Context(), tclient.ScheduleTriggerOptions{}) // the worker may not have created it yet
			next = time.Now().Add(2 * time.Second)
		}
		return false
	}, 3*time.Minute, 100*time.Millisecond, "delivered: %s", what)
	return found
}

// TestMailGatewayEndToEnd follows a client's mail through the whole system,
// over IMAP and over POP3: a gateway of the technical department created
// through the API; the client's user mails its address (into Dovecot);
// a poll makes it a ticket (source email) that John, a member of the
// department, lists and Gary, who is not, doesn't; the client is told
// (ticket_from_email); John answers through the API and ticket_reply
// reaches the client at the SMTP server, threaded; the client's answer to
// that mail (In-Reply-To its Message-ID, the answer quoted) becomes a
// message of the same ticket with only the new text; and nothing stays
// unprocessed in the mailbox.
func TestMailGatewayEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal, Dovecot and the whole system")
	}
	t.Parallel()
	ctx := context.Background()
	dev, err := temporaltest.Start(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dev.Stop() })
	smtpd, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = smtpd.Close() })
	key, _, err := secret.NewKey()
	require.NoError(t, err)
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	dbURL, drop, err := dbtest.Create(ctx, base)
	require.NoError(t, err)
	t.Cleanup(drop)
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress = dbURL, dev.FrontendHostPort()
		cfg.SMTPAddr, cfg.SMTPTLS, cfg.MailFrom = smtpd.Addr, "none", "billing@provider.example"
		cfg.MailGatewayKey = key
	})
	require.NoError(t, m.StartWorker())
	admin, err := adminToken(ctx, m.Store, "gw-admin")
	require.NoError(t, err)

	for _, protocol := range []string{"imap", "pop3"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			u := strings.ToLower(rand.Text()[:8])
			mailbox := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
			addr := mailbox.IMAP
			if protocol == "pop3" {
				addr = mailbox.POP3
			}
			name := "Technical " + u
			tech, err := m.Store.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
			require.NoError(t, err)
			john := staffToken(t, m.Store, "john"+u, billing.RoleStaff, []string{}, tech.ID)
			gary := staffToken(t, m.Store, "gary"+u, billing.RoleStaff, []string{})
			in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Client " + u, Country: "DE",
				// Ann confirmed her address: only a confirmed address names a sender.
				User: billing.UserCreate{Login: "ann" + u, Email: "ann" + u + "@client.example", FirstName: "Ann", EmailVerified: true}}
			in.Defaults()
			cust, ann, err := m.Store.CreateCustomer(ctx, in, "x")
			require.NoError(t, err)
			gwAddress := "tech-" + u + "@provider.example"
			gw := createGateway(t, m.URL, admin, protocol, addr, gwAddress, tech.ID)

			firstID := "<first-" + u + "@client.example>"
			mailbox.Deliver(t, []byte("From: Ann <"+ann.Email+">\r\nTo: "+gwAddress+"\r\nSubject: VPS down\r\nMessage-ID: "+firstID+
				"\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy VPS does not boot.\r\n"))
			var johns struct{ Items []gatewayTicket }
			pollUntil(t, m.URL, admin, gw, "a ticket", func() bool {
				call(t, john, "GET", m.URL+fmt.Sprintf("/api/v1/tickets?department_id=%d", tech.ID), "", http.StatusOK, &johns)
				return len(johns.Items) > 0
			})
			require.Len(t, johns.Items, 1)
			ticket := johns.Items[0]
			require.Equal(t, cust.ID, ticket.CustomerID)
			require.Equal(t, tech.ID, ticket.DepartmentID)
			require.Equal(t, billing.SourceEmail, ticket.Source)
			var garys struct{ Items []gatewayTicket }
			call(t, gary, "GET", m.URL+"/api/v1/tickets", "", http.StatusOK, &garys)
			for _, g := range garys.Items {
				require.NotEqual(t, ticket.ID, g.ID, "Gary is no member of the technical department")
			}
			call(t, gary, "GET", m.URL+fmt.Sprintf("/api/v1/tickets/%d", ticket.ID), "", http.StatusNotFound, nil)

			tag := fmt.Sprintf("[Ticket #%d]", ticket.ID)
			toAnn := func(m smtptest.Message) bool {
				return strings.Contains(m.To, ann.Email) && strings.Contains(m.Subject, tag)
			}
			fromEmail := redeliver(t, m.Temporal, smtpd, "ticket_from_email", toAnn)
			require.Equal(t, firstID, fromEmail.Header.Get("In-Reply-To"), "ticket_from_email answers the client's mail")

			call(t, john, "POST", m.URL+fmt.Sprintf("/api/v1/tickets/%d/messages", ticket.ID),
				`{"body": "We restarted the host. Does it boot now?"}`, http.StatusCreated, nil)
			reply := redeliver(t, m.Temporal, smtpd, "ticket_reply", func(m smtptest.Message) bool {
				return toAnn(m) && m.MessageID != fromEmail.MessageID && strings.Contains(m.Body, "We restarted the host")
			})
			root := fmt.Sprintf("<ticket-%d.", ticket.ID)
			// Threaded under the ticket's root id and the client's first mail.
			require.Equal(t, firstID, reply.Header.Get("In-Reply-To"), "%v", reply.Header)
			require.True(t, strings.HasPrefix(reply.Header.Get("References"), root), "%v", reply.Header)
			require.Contains(t, reply.Header.Get("References"), firstID)
			require.NotEmpty(t, reply.MessageID)

			// Ann answers that mail from her mail program: the quote below her text.
			msgID := "<" + strings.Trim(reply.MessageID, "<>") + ">"
			mailbox.Deliver(t, []byte("From: Ann <"+ann.Email+">\r\nTo: "+gwAddress+"\r\nSubject: Re: "+reply.Subject+
				"\r\nMessage-ID: <answer-"+u+"@client.example>\r\nIn-Reply-To: "+msgID+"\r\nReferences: "+msgID+
				"\r\nDate: Sun, 22 Nov 2026 11:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
				"Yes, it boots. Thank you!\r\n\r\nOn Sun, 22 Nov 2026 at 10:30, Support wrote:\r\n> We restarted the host. Does it boot now?\r\n"))
			var view gatewayTicket
			pollUntil(t, m.URL, admin, gw, "the answer", func() bool {
				call(t, john, "GET", m.URL+fmt.Sprintf("/api/v1/tickets/%d", ticket.ID), "", http.StatusOK, &view)
				return len(view.Messages) == 3
			})
			require.Equal(t, "My VPS does not boot.", view.Messages[0].Body)
			require.Equal(t, "Yes, it boots. Thank you!", view.Messages[2].Body, "only the new text")
			require.NotNil(t, view.Messages[2].AuthorUserID)
			require.Equal(t, ann.ID, *view.Messages[2].AuthorUserID)
			call(t, john, "GET", m.URL+fmt.Sprintf("/api/v1/tickets?department_id=%d", tech.ID), "", http.StatusOK, &johns)
			require.Len(t, johns.Items, 1, "the answer opened no ticket")
			require.Zero(t, unprocessed(t, protocol, addr), "both mails are processed on the server (IMAP read, POP3 deleted)")
		})
	}
}

// TestMailGatewayWorkerKilledMidBatch puts 40 clients' mails in a mailbox,
// kills the worker process (SIGKILL) while PollMailbox is working through
// them, and starts a new one, once over IMAP and once over POP3 (which
// deletes only at the end of a session, so every mail is read again).
// After the polls: one ticket per mail (by Message-ID), none missing, one
// ticket_from_email each, and nothing left unprocessed on the server.
func TestMailGatewayWorkerKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal, Dovecot and a worker process it kills")
	}
	t.Parallel()
	const n = 40
	ctx := context.Background()
	r := newKillRig(t)
	key, encoded, err := secret.NewKey()
	require.NoError(t, err)
	r.env = append(r.env, "MAIL_GATEWAY_KEY="+encoded)
	w := r.startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress, cfg.MailGatewayKey = r.dbURL, r.dev.FrontendHostPort(), key
	})
	pool := m.Pool
	admin, err := adminToken(ctx, m.Store, "kill-admin")
	require.NoError(t, err)
	name := "Technical"
	tech, err := m.Store.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)

	for round, protocol := range []string{"imap", "pop3"} {
		mailbox := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
		addr := mailbox.IMAP
		if protocol == "pop3" {
			addr = mailbox.POP3
		}
		gwAddress := fmt.Sprintf("tech-%d@provider.example", round)
		gw := createGateway(t, m.URL, admin, protocol, addr, gwAddress, tech.ID)
		// One client each: the auto-answer limit (5 an hour an address) stays out of it.
		customers, err := createCustomers(ctx, m.Store, n, 0)
		require.NoError(t, err)
		domain := fmt.Sprintf("kill%d.example", round)
		for i, c := range customers {
			var email string
			// The client confirmed the address: only a confirmed address names a sender.
			require.NoError(t, pool.QueryRow(ctx, `UPDATE users SET email_verified = true WHERE customer_id = $1 RETURNING email`, c).Scan(&email))
			mailbox.Deliver(t, fmt.Appendf(nil, "From: %s\r\nTo: %s\r\nSubject: Mail %d\r\nMessage-ID: <mail-%d@%s>\r\n"+
				"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nRequest %d.\r\n",
				email, gwAddress, i, i, domain, i))
		}
		taken := func() int {
			var c int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM mail_intake WHERE gateway_id = $1`, gw).Scan(&c))
			return c
		}
		call(t, admin, "POST", fmt.Sprintf("%s/api/v1/mail-gateways/%d/poll", m.URL, gw), "", http.StatusAccepted, nil)
		deadline := time.Now().Add(3 * time.Minute)
		for taken() < 3 {
			require.True(t, time.Now().Before(deadline), "%s: the poll did not start", protocol)
			time.Sleep(5 * time.Millisecond)
		}
		require.NoError(t, w.Process.Signal(syscall.SIGKILL))
		_ = w.Wait()
		t.Logf("%s: worker killed with %d of %d mails taken", protocol, taken(), n)
		w = r.startWorker()

		// The killed attempt times out (heartbeat) and is tried again on the
		// new worker; a poll asked for meanwhile may run as well.
		pollUntil(t, m.URL, admin, gw, protocol+": every mail", func() bool {
			return taken() == n && unprocessed(t, protocol, addr) == 0
		})
		var mails, tickets, perMail, notices, perTicket int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT m.mail_message_id), count(DISTINCT m.ticket_id),
			coalesce(max(c), 0) FROM ticket_messages AS m JOIN (SELECT mail_message_id, count(*) AS c FROM ticket_messages
			GROUP BY mail_message_id) x USING (mail_message_id) WHERE m.mail_message_id LIKE '%@' || $1 || '%'`, domain).
			Scan(&mails, &tickets, &perMail))
		require.Equal(t, n, mails, "%s: every mail is a ticket's message", protocol)
		require.Equal(t, n, tickets, "%s: one ticket per mail", protocol)
		require.Equal(t, 1, perMail, "%s: no mail stored twice", protocol)
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), coalesce(max(c), 0) FROM (SELECT object_id, count(*) AS c
			FROM notices WHERE event = 'ticket_from_email' AND object_id IN (SELECT ticket_id::text FROM mail_intake
			WHERE gateway_id = $1) GROUP BY object_id) x`, gw).Scan(&notices, &perTicket))
		require.Equal(t, n, notices, "%s: every client is told", protocol)
		require.Equal(t, 1, perTicket, "%s: no ticket_from_email twice", protocol)
		var outcomes int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM mail_intake WHERE gateway_id = $1 AND outcome = 'ticket'`, gw).Scan(&outcomes))
		require.Equal(t, n, outcomes, "%s: every mail was a new ticket", protocol)
	}
}
