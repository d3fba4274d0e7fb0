package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/apitest"
)

// TestWorkerKillDuringBroadcast sends a message to 1,000 customers (one
// user each) through the API, kills the worker process (SIGKILL) in the
// middle of the sending and starts it again. Afterwards the message is
// done, every user has exactly one row of the notification log for it, and
// the SMTP server received no email twice and none that was not recorded.
func TestWorkerKillDuringBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server and sends 1,000 emails")
	}
	t.Parallel()
	const n = 1000
	ctx := context.Background()
	r := newKillRig(t)
	dev, dbURL, smtpd, startWorker := r.dev, r.dbURL, r.smtp, r.startWorker
	w := startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })

	// 100 emails a second: the sending takes about 10 seconds, in batches of 500.
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress, cfg.MessageRate = dbURL, dev.FrontendHostPort(), 100
	})
	pool := m.Pool
	_, err := createCustomers(ctx, m.Store, n, 0)
	require.NoError(t, err)
	token, err := adminToken(ctx, m.Store, "broadcast-admin")
	require.NoError(t, err)
	hc := &http.Client{Transport: apitest.Transport(t, nil)}
	req, err := http.NewRequestWithContext(ctx, "POST", m.URL+"/api/v1/messages",
		strings.NewReader(`{"category": "maintenance", "subject": "Broadcast under a kill", "text": "Hello"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusAccepted, res.StatusCode, "%s", raw)
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(id) FROM messages`).Scan(&id))
	objectID := fmt.Sprint(id)

	rows := func() int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notices WHERE object_type = 'message' AND object_id = $1`, objectID).Scan(&c))
		return c
	}
	deadline := time.Now().Add(2 * time.Minute)
	for rows() < n/4 {
		require.True(t, time.Now().Before(deadline), "the sending did not start")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	t.Logf("worker killed with %d of %d emails recorded", rows(), n)
	time.Sleep(2 * time.Second)
	w = startWorker()

	require.Eventually(t, func() bool {
		msg, err := m.Store.Message(ctx, id)
		require.NoError(t, err)
		return msg.Status == billing.MessageDone
	}, 3*time.Minute, 250*time.Millisecond, "the message is sent to everyone")
	time.Sleep(2 * time.Second) // let anything that would be sent twice arrive

	var users, missed, doubled, sent, sending int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users))
	require.Equal(t, n, users)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM notices
		WHERE object_type = 'message' AND object_id = $1 AND recipient = u.email)`, objectID).Scan(&missed))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT recipient FROM notices WHERE object_type = 'message'
		AND object_id = $1 GROUP BY recipient HAVING count(*) > 1) x`, objectID).Scan(&doubled))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'sending')
		FROM notices WHERE object_type = 'message' AND object_id = $1`, objectID).Scan(&sent, &sending))
	require.Zero(t, missed, "users with no row for the message")
	require.Zero(t, doubled, "users with two rows for the message")
	require.Equal(t, n, sent+sending)

	perRecipient := map[string]int{}
	for _, msg := range smtpd.Messages() {
		if msg.Subject == "Broadcast under a kill" {
			perRecipient[strings.Trim(msg.To, "<>")]++
		}
	}
	delivered := 0
	for to, c := range perRecipient {
		delivered += c
		if c > 1 {
			t.Errorf("%s received the message %d times", to, c)
		}
	}
	// An email left "sending" by the kill may or may not have gone out (at
	// most once); every one recorded as sent did.
	require.GreaterOrEqual(t, delivered, sent, "every email recorded as sent was delivered")
	require.LessOrEqual(t, delivered, sent+sending, "nothing was delivered that was not recorded")
	t.Logf("after the kill: %d delivered, %d sent, %d left sending by the kill, %d mails in all", delivered, sent, sending, len(smtpd.Messages()))
}
