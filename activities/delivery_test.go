package activities_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/sms"
)

// smtpFixture is a fixture whose mail goes to a real SMTP server in the test
// process, made to misbehave.
func smtpFixture(t *testing.T) (fixture, *smtptest.Server) {
	t.Helper()
	f := setup(t, billing.ProductInput{})
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	f.acts.Mail = m
	return f, srv
}

// activated is the "service activated" notice of period 1, by email.
func (f fixture) activated() activities.SendNoticesInput {
	return activities.SendNoticesInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1,
		Notices: []activities.NoticeRequest{{Milestone: "activated", Key: "activated"}},
		Plan:    activities.Plan{ProductID: f.prod.ID, ProductName: "VPS", Price: 250, Currency: "EUR", TimeZone: "UTC"}}
}

// status returns the status of the fixture's only notice.
func (f fixture) status(t *testing.T) billing.Notice {
	t.Helper()
	notices, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	require.Len(t, notices, 1)
	return notices[0]
}

// redeliver makes the fixture's notices due and runs one redelivery for them.
func (f fixture) redeliver(t *testing.T) activities.RedeliverResult {
	t.Helper()
	_, err := f.st.Pool().Exec(f.ctx, `UPDATE notices SET next_attempt_at = now() - interval '1 second'
		WHERE customer_id = $1 AND next_attempt_at IS NOT NULL`, f.cust.ID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	res, err := f.acts.RedeliverNotices(ctx, activities.RedeliverInput{CustomerID: f.cust.ID})
	require.NoError(t, err)
	return res
}

// TestDeliveryAgainstAMisbehavingServer: what "sent" means, against a real
// SMTP server that drops, stalls, refuses and is down. A 250 after DATA is
// delivered whatever follows; an unknown outcome is sent again with the same
// Message-ID; a failure is sent again; a refusal is not; the activity never
// fails for it and the row always records how the attempt ended.
func TestDeliveryAgainstAMisbehavingServer(t *testing.T) {
	t.Parallel()
	t.Run("accepted, then the connection drops", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		srv.SetFault(smtptest.DropAfterAccept)
		res, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err)
		require.Equal(t, 1, res.Sent, "a 250 after DATA is delivered")
		require.Equal(t, billing.NoticeSent, f.status(t).Status)
		require.Zero(t, f.redeliver(t).Claimed, "nothing to send again")
		require.Len(t, srv.Messages(), 1, "one copy")
	})
	t.Run("the connection drops during DATA", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		srv.SetFault(smtptest.DropDuringData)
		res, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err, "billing goes on")
		require.Equal(t, 1, res.Deferred)
		require.Equal(t, billing.NoticeUnknown, f.status(t).Status)
		srv.SetFault(smtptest.Accept)
		require.Equal(t, 1, f.redeliver(t).Sent)
		require.Equal(t, billing.NoticeSent, f.status(t).Status)
		ids := srv.MessageIDs("is active")
		require.Len(t, ids, 1, "sent again with the same Message-ID: %v", ids)
		require.Zero(t, f.redeliver(t).Claimed)
	})
	t.Run("a server that stalls past the deadline", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		srv.SetFault(smtptest.Stall)
		srv.SetStall(15 * time.Second)
		ctx, cancel := context.WithTimeout(f.ctx, 8*time.Second) // the activity's time limit
		defer cancel()
		res, err := f.acts.SendNotices(ctx, f.activated())
		require.NoError(t, err)
		require.Equal(t, 1, res.Deferred)
		n := f.status(t)
		require.Equal(t, billing.NoticeUnknown, n.Status, "the outcome is recorded although the send's time ran out")
		srv.SetFault(smtptest.Accept)
		require.Equal(t, 1, f.redeliver(t).Sent)
		require.Len(t, srv.MessageIDs("is active"), 1, "one Message-ID")
	})
	t.Run("a temporary refusal (4xx)", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		srv.SetFault(smtptest.TempFail)
		_, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err)
		require.Equal(t, billing.NoticeFailed, f.status(t).Status)
		require.Contains(t, f.status(t).Error, "451")
		srv.SetFault(smtptest.Accept)
		require.Equal(t, 1, f.redeliver(t).Sent)
		require.Len(t, srv.Messages(), 1)
	})
	t.Run("a refusal for good (5xx)", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		srv.SetFault(smtptest.Reject)
		_, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err)
		require.Equal(t, billing.NoticeRejected, f.status(t).Status)
		srv.SetFault(smtptest.Accept)
		require.Zero(t, f.redeliver(t).Claimed, "not sent again")
		require.Empty(t, srv.Messages())
	})
	t.Run("down, then back", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		require.NoError(t, srv.Down())
		_, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err)
		require.Equal(t, billing.NoticeFailed, f.status(t).Status)
		require.Zero(t, f.redeliver(t).Sent, "still down")
		require.Equal(t, billing.NoticeFailed, f.status(t).Status)
		require.Equal(t, 2, f.status(t).Attempts)
		require.NoError(t, srv.Up())
		require.Equal(t, 1, f.redeliver(t).Sent)
		require.Len(t, srv.Messages(), 1, "delivered once when the server is back")
	})
	t.Run("down until the notice's moment passed", func(t *testing.T) {
		t.Parallel()
		f, srv := smtpFixture(t)
		require.NoError(t, srv.Down())
		_, err := f.acts.SendNotices(f.ctx, f.activated())
		require.NoError(t, err)
		_, err = f.st.Pool().Exec(f.ctx, `UPDATE notices SET retry_until = now() - interval '1 second' WHERE customer_id = $1`, f.cust.ID)
		require.NoError(t, err)
		require.NoError(t, srv.Up())
		f.redeliver(t)
		n := f.status(t)
		require.Equal(t, billing.NoticeExpired, n.Status, "not sent late")
		require.Contains(t, n.Error, "its moment passed")
		require.Empty(t, srv.Messages())
	})
}

// TestRetryHorizon: a notice is sent again while what it announces is ahead.
func TestRetryHorizon(t *testing.T) {
	t.Parallel()
	f, srv := smtpFixture(t)
	require.NoError(t, srv.Down())
	paidUntil := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	in := f.activated()
	in.Notices = []activities.NoticeRequest{{Milestone: "expiring", Key: "expiring:3", Days: 3}}
	in.PaidUntil = paidUntil
	_, err := f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err)
	n := f.status(t)
	require.NotNil(t, n.RetryUntil)
	require.True(t, paidUntil.Equal(*n.RetryUntil), "until the date it is about: %v", n.RetryUntil)
	in.Notices = []activities.NoticeRequest{{Milestone: "activated", Key: "activated"}}
	start := time.Now()
	_, err = f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err)
	notices, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	require.WithinRange(t, *notices[1].RetryUntil, start.Add(24*time.Hour-time.Minute), start.Add(24*time.Hour+time.Minute), "others: a day")
}

// twilioFake answers like Twilio's Messages API, or misbehaves.
type twilioFake struct {
	created atomic.Int32
	mode    atomic.Value // "ok", "drop-after-create", "500-after-create", "400", "down"
}

func (tf *twilioFake) handler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	switch tf.mode.Load() {
	case "400":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code": 21211, "message": "invalid 'To' number", "status": 400}`)
		return
	}
	n := tf.created.Add(1)
	switch tf.mode.Load() {
	case "drop-after-create":
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	case "500-after-create":
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"code": 20500, "message": "internal error", "status": 500}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, `{"sid": "SM%030d", "status": "queued"}`, n)
	}
}

// TestSMSDelivery: Twilio can't recognise a message sent twice, so an SMS
// whose outcome is unknown (created, then the answer lost) is never sent
// again; one that never reached Twilio is; one refused for good is not.
func TestSMSDelivery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode      string
		status    string
		resent    bool
		twilioHas int32 // messages Twilio created in the end
	}{
		{"ok", billing.NoticeSent, false, 1},
		{"drop-after-create", billing.NoticeUnknown, false, 1},
		{"500-after-create", billing.NoticeUnknown, false, 1},
		{"400", billing.NoticeRejected, false, 0},
		{"down", billing.NoticeFailed, true, 1},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			f := setup(t, billing.ProductInput{})
			_, err := f.st.Pool().Exec(f.ctx, `UPDATE users SET phone = '+4915112345678' WHERE customer_id = $1`, f.cust.ID)
			require.NoError(t, err)
			fake := &twilioFake{}
			fake.mode.Store(tc.mode)
			srv := httptest.NewServer(http.HandlerFunc(fake.handler))
			t.Cleanup(srv.Close)
			addr := srv.Listener.Addr().String()
			if tc.mode == "down" {
				srv.Close()
			}
			hc := &http.Client{Timeout: 5 * time.Second, Transport: toFake{addr}}
			f.acts.SMS = sms.NewTwilio("AC0123", "token", "+15005550006", hc)
			f.acts.Mail = &flakyMail{}
			in := f.activated()
			_, err = f.acts.SendNotices(f.ctx, in)
			require.NoError(t, err)
			var smsNotice billing.Notice
			notices, err := f.st.Notices(f.ctx, f.sub.ID)
			require.NoError(t, err)
			for _, n := range notices {
				if n.Channel == billing.ChannelSMS {
					smsNotice = n
				}
			}
			require.Equal(t, tc.status, smsNotice.Status, "%s", smsNotice.Error)
			if tc.mode == "down" { // Twilio is back
				srv = httptest.NewUnstartedServer(http.HandlerFunc(fake.handler))
				ln, err := net.Listen("tcp", addr)
				require.NoError(t, err)
				srv.Listener = ln
				srv.Start()
				t.Cleanup(srv.Close)
				fake.mode.Store("ok")
			}
			res := f.redeliver(t)
			require.Equal(t, tc.resent, res.Sent == 1, "%+v", res)
			require.Equal(t, tc.twilioHas, fake.created.Load())
		})
	}
}

// toFake sends every request to the fake Twilio at addr, over plain HTTP.
type toFake struct{ addr string }

func (f toFake) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = "http", f.addr
	return http.DefaultTransport.RoundTrip(req)
}

// TestStaleSendingAndBackoff: an attempt that died leaving "sending" (a
// killed worker) counts as unknown after 3 minutes, not before: an email is sent again
// with its Message-ID, an SMS is not; failed notices wait 1, 2, 4 ... up to
// 30 minutes between attempts.
func TestStaleSendingAndBackoff(t *testing.T) {
	t.Parallel()
	f, srv := smtpFixture(t)
	_, err := f.st.Pool().Exec(f.ctx, `UPDATE users SET phone = '+4915112345678' WHERE customer_id = $1`, f.cust.ID)
	require.NoError(t, err)
	f.acts.SMS = noSMS{}           // refuses: a failed SMS, but this one is only claimed
	require.NoError(t, srv.Down()) // every first attempt fails
	_, err = f.acts.SendNotices(f.ctx, f.activated())
	require.NoError(t, err)
	require.NoError(t, srv.Up())
	srv.SetFault(smtptest.Accept)
	// Both were left "sending" 2 minutes ago: the attempt may still be
	// under way, nothing is done.
	_, err = f.st.Pool().Exec(f.ctx, `UPDATE notices SET status = 'sending', updated_at = now() - interval '2 minutes'
		WHERE customer_id = $1`, f.cust.ID)
	require.NoError(t, err)
	res := f.redeliver(t)
	require.Zero(t, res.Settled+res.Claimed+res.Sent, "a claim 2 minutes old is left to its attempt: %+v", res)
	// Both were left "sending" 4 minutes ago by an attempt that died.
	_, err = f.st.Pool().Exec(f.ctx, `UPDATE notices SET status = 'sending', updated_at = now() - interval '4 minutes'
		WHERE customer_id = $1`, f.cust.ID)
	require.NoError(t, err)
	stale, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	res = f.redeliver(t)
	require.Equal(t, 1, res.Settled, "the SMS: unknown, never sent twice")
	require.Equal(t, 1, res.Sent, "the email: sent again")
	// The attempt that died was only slow: its late record changes nothing.
	for _, n := range stale {
		require.NoError(t, f.st.FinishNotice(f.ctx, n, billing.NoticeFailed, "", "the late attempt"))
	}
	notices, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	for _, n := range notices {
		want := map[string]string{billing.ChannelEmail: billing.NoticeSent, billing.ChannelSMS: billing.NoticeUnknown}[n.Channel]
		require.Equal(t, want, n.Status, n.Channel)
	}

	// Back-off: the wait after a failed attempt doubles, up to 30 minutes.
	for attempts, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 6: 30 * time.Minute, 40: 30 * time.Minute} {
		var wait time.Duration
		require.NoError(t, f.st.Pool().QueryRow(f.ctx, `UPDATE notices SET attempts = $2, status = 'sending' WHERE id = $1 RETURNING 0`, notices[0].ID, attempts).Scan(new(int)))
		claim := notices[0]
		claim.Attempts = attempts
		require.NoError(t, f.st.FinishNotice(f.ctx, claim, billing.NoticeFailed, "", "x"))
		require.NoError(t, f.st.Pool().QueryRow(f.ctx, `SELECT extract(epoch FROM next_attempt_at - updated_at)::bigint FROM notices WHERE id = $1`,
			notices[0].ID).Scan(&wait))
		require.Equal(t, int64(want/time.Second), int64(wait), "after attempt %d", attempts)
	}
}

// TestNoticesFromBeforeTheUpgrade: a notice recorded before bodies were kept
// can't be sent again: left "sending" by a dead attempt, it becomes unknown
// instead of going out empty.
func TestNoticesFromBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	f, srv := smtpFixture(t)
	_, err := f.acts.SendNotices(f.ctx, f.activated())
	require.NoError(t, err)
	_, err = f.st.Pool().Exec(f.ctx, `UPDATE notices SET status = 'sending', body = '', retry_until = NULL,
		updated_at = now() - interval '1 hour' WHERE customer_id = $1`, f.cust.ID)
	require.NoError(t, err)
	res := f.redeliver(t)
	require.Zero(t, res.Claimed)
	require.Equal(t, billing.NoticeUnknown, f.status(t).Status)
	require.Len(t, srv.Messages(), 1, "only the first send")
}
