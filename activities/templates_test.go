package activities_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// world is a customer with users of the given languages (the first is the
// main user), a subscription, and activities whose mail goes to a real SMTP
// server in the test process.
type world struct {
	ctx   context.Context
	st    *store.Store
	acts  *activities.Activities
	smtp  *smtptest.Server
	cust  billing.Customer
	users []billing.User
	sub   billing.Subscription
	prod  billing.Product
}

func newWorld(t *testing.T, customerLang string, userLangs ...string) world {
	t.Helper()
	return newWorldIn(t, store.New(dbtest.Pool(t)), customerLang, userLangs...)
}

// newWorldIn is newWorld in the database of st.
func newWorldIn(t *testing.T, st *store.Store, customerLang string, userLangs ...string) world {
	t.Helper()
	ctx := t.Context()
	login := func() string { return "t" + strings.ToLower(rand.Text()[:10]) }
	l := login()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Lang <Co>", Country: "DE", Language: customerLang,
		User: billing.UserCreate{Login: l, Email: l + "@example.com", FirstName: "Main", Language: userLangs[0]}}
	in.Defaults()
	c, main, err := st.CreateCustomer(ctx, in, "x")
	require.NoError(t, err)
	users := []billing.User{main}
	for _, lang := range userLangs[1:] {
		l := login()
		u, err := st.CreateUser(ctx, c.ID, billing.UserCreate{Login: l, Email: l + "@example.com", FirstName: "User", Language: lang}, "x")
		require.NoError(t, err)
		users = append(users, u)
	}
	price := int64(250)
	pin := billing.ProductInput{Name: "VPS", Price: &price, Currency: "EUR", PeriodUnit: billing.PeriodMonth}
	p, err := st.CreateProduct(ctx, pin.Product())
	require.NoError(t, err)
	order, err := st.CreateSubscription(ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	acts := &activities.Activities{Store: st, Mail: m, SMS: noSMS{}, MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler)}
	return world{ctx: ctx, st: st, acts: acts, smtp: srv, cust: c, users: users, sub: order.Subscription, prod: p}
}

// renewed sends the "renewed" notice of period to every user.
func (w world) renewed(t *testing.T, period int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	_, err := w.acts.SendNotices(ctx, activities.SendNoticesInput{SubscriptionID: w.sub.ID, CustomerID: w.cust.ID, Period: period,
		Notices: []activities.NoticeRequest{{Milestone: billing.MilestoneRenewed, Key: billing.MilestoneRenewed}},
		Plan:    activities.Plan{ProductID: w.prod.ID, ProductName: "VPS", Price: 250, Currency: "EUR", TimeZone: "UTC"}})
	require.NoError(t, err)
}

// subjectTo returns the subject of the only message to addr whose subject contains part.
func (w world) subjectTo(t *testing.T, addr, part string) string {
	t.Helper()
	var got []string
	for _, m := range w.smtp.Messages() {
		if m.To == addr && strings.Contains(m.Subject, part) {
			got = append(got, m.Subject)
		}
	}
	require.Len(t, got, 1, "one message to %s with %q", addr, part)
	return got[0]
}

// TestLanguageFallback: the recipient's language picks the template, then
// the customer's, then the default language, then the built-in English;
// the log records the language used. (The languages here are this test's
// alone: every other test's users speak English.)
func TestLanguageFallback(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.Pool(t))
	tpl := func(lang, subject string) billing.MessageTemplate {
		return billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: lang,
			Subject: subject + " [PAYMENT_NAME]", Body: subject + ", [USER_NAME]"}
	}
	require.NoError(t, st.SetMessageTemplates(t.Context(), tpl("de", "Verlängert"), tpl("fr", "Renouvelé"), tpl("nl", "Verlengd")))

	// The main user speaks German, the second Italian (no template), the
	// customer French.
	w := newWorld(t, "fr", "de", "it")
	w.renewed(t, 1)
	require.Equal(t, "Verlängert VPS", w.subjectTo(t, w.users[0].Email, "VPS"), "the recipient's language")
	require.Equal(t, "Renouvelé VPS", w.subjectTo(t, w.users[1].Email, "VPS"), "else the customer's")
	log, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	langs := map[string]string{}
	for _, n := range log {
		langs[n.Recipient] = n.Language
		require.Equal(t, "custom:renewed", n.Template)
	}
	require.Equal(t, map[string]string{w.users[0].Email: "de", w.users[1].Email: "fr"}, langs)

	// Neither the user's (Italian) nor the customer's (Spanish) has one: the
	// default language, then English.
	w = newWorld(t, "es", "it")
	w.acts.DefaultLanguage = "nl"
	w.renewed(t, 1)
	require.Equal(t, "Verlengd VPS", w.subjectTo(t, w.users[0].Email, "VPS"), "else the default language")
	w.acts.DefaultLanguage = ""
	w.renewed(t, 2)
	require.Len(t, w.smtp.Messages(), 2)
	require.Equal(t, "VPS was renewed", w.smtp.Messages()[1].Subject, "else the built-in English")
}

// TestDefaultLanguageSetting: once the global settings are stored, their
// default_language picks the template of a recipient whose user and
// customer languages have none, over the activities' own default, and a
// change applies to the next message. (Settings belong to a whole database:
// this test has its own.)
func TestDefaultLanguageSetting(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.OwnPool(t))
	tpl := func(lang, subject string) billing.MessageTemplate {
		return billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: lang,
			Subject: subject + " [PAYMENT_NAME]", Body: subject + ", [USER_NAME]"}
	}
	require.NoError(t, st.SetMessageTemplates(t.Context(), tpl("sv", "Förnyad"), tpl("nl", "Verlengd"), tpl("da", "Fornyet")))
	w := newWorldIn(t, st, "es", "it")
	w.acts.DefaultLanguage = "nl" // the start-up default: only until settings are stored
	w.renewed(t, 1)
	require.Equal(t, "Verlengd VPS", w.smtp.Messages()[0].Subject)

	sv := "sv"
	_, err := st.UpdateSettings(w.ctx, billing.DefaultSettings(), billing.SettingsUpdate{DefaultLanguage: &sv})
	require.NoError(t, err)
	w.renewed(t, 2)
	require.Equal(t, "Förnyad VPS", w.smtp.Messages()[1].Subject, "the stored setting")

	da := "da"
	_, err = st.UpdateSettings(w.ctx, billing.DefaultSettings(), billing.SettingsUpdate{DefaultLanguage: &da})
	require.NoError(t, err)
	w.renewed(t, 3)
	require.Equal(t, "Fornyet VPS", w.smtp.Messages()[2].Subject, "a change applies to the next message")
}

// parts returns the content types and decoded texts of a multipart/alternative message.
func parts(t *testing.T, m smtptest.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	r := multipart.NewReader(strings.NewReader(m.Body), params["boundary"])
	out := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // multipart decodes quoted-printable
		require.NoError(t, err)
		out[ct] = string(b)
	}
}

// TestEventMessagesAndHeaders: a staff message goes to every user with an
// HTML body whose values are escaped, its text alternative, and the headers
// of a good sender; a registration goes to the main user only; a service
// notice has no List-Unsubscribe.
func TestEventMessagesAndHeaders(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en", "en")
	text := `Maintenance <script>alert("x")</script> & more`
	res, err := w.acts.SendEvent(w.ctx, activities.SendEventInput{Event: notices.EventMessage, CustomerID: w.cust.ID,
		ObjectID: "m1", Vars: map[string]string{"[MESSAGE_SUBJECT]": "Planned work", "[MESSAGE_TEXT]": text}})
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{Sent: 2}, res, "all users of the customer")
	for _, m := range w.smtp.Messages() {
		require.Equal(t, "Planned work", m.Subject)
		require.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
		require.NotEmpty(t, m.MessageID)
		require.Equal(t, "<mailto:billing@example.com?subject=unsubscribe+message>", m.Header.Get("List-Unsubscribe"))
		p := parts(t, m)
		require.Contains(t, p["text/plain"], text, "the text alternative: the value as written")
		require.Contains(t, p["text/html"], `Maintenance &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`, "HTML: escaped")
		require.NotContains(t, p["text/html"], "<script>")
	}

	res, err = w.acts.SendEvent(w.ctx, activities.SendEventInput{Event: notices.EventRegistration, CustomerID: w.cust.ID,
		Vars: map[string]string{"[SET_PASSWORD_URL]": "https://billing.example.com/p?t=1", "[LINK_EXPIRES]": "tomorrow"}})
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{Sent: 1}, res, "the main user only")
	reg := w.smtp.Messages()[2]
	require.Equal(t, w.users[0].Email, reg.To)
	require.Equal(t, "Welcome to your account, Main", reg.Subject)
	require.Contains(t, reg.Body, "Lang <Co>", "[CUSTOMER_NAME] is filled in")
	require.Empty(t, reg.Header.Get("List-Unsubscribe"), "an account notice can't be unsubscribed from")
	require.Equal(t, "auto-generated", reg.Header.Get("Auto-Submitted"))
	require.True(t, strings.HasPrefix(reg.Header.Get("Content-Type"), "text/plain"), "no HTML: plain text")

	w.renewed(t, 1)
	svc := w.smtp.Messages()[3]
	require.Empty(t, svc.Header.Get("List-Unsubscribe"))
	require.Equal(t, "auto-generated", svc.Header.Get("Auto-Submitted"))

	log, err := w.st.Notifications(w.ctx, billing.NotificationFilter{CustomerID: &w.cust.ID, Event: notices.EventMessage})
	require.NoError(t, err)
	require.Equal(t, 2, log.Total)
	for _, n := range log.Items {
		require.Equal(t, "message", n.ObjectType)
		require.Equal(t, "m1", n.ObjectID)
		require.Nil(t, n.SubscriptionID)
		require.Equal(t, "en", n.Language)
		require.Equal(t, billing.NoticeSent, n.Status)
	}
}

// TestSendEventOnceUnderRetry: a retried SendEvent activity finds the
// earlier sends: each recipient gets the message once; a send that failed
// is sent on the retry.
func TestSendEventOnceUnderRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en", "en")
	fm := &flakyMail{failures: 1}
	w.acts.Mail = fm
	in := activities.SendEventInput{Event: notices.EventClientVerificationInfo, CustomerID: w.cust.ID, ObjectType: "payer", ObjectID: "9",
		Vars: map[string]string{"[PAYER_NAME]": "Lang GmbH", "[REQUESTED_INFO]": "a registration extract"}}
	res, err := w.acts.SendEvent(w.ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{Sent: 1, Deferred: 1}, res)
	res, err = w.acts.SendEvent(w.ctx, in) // the retry
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{Sent: 1, AlreadySent: 1}, res)
	res, err = w.acts.SendEvent(w.ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{AlreadySent: 2}, res)
	require.Len(t, fm.sent, 2, "each user once")

	in.Key = "2" // asked again, on purpose: a key of its own
	res, err = w.acts.SendEvent(w.ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.SendEventResult{Sent: 2}, res)

	_, err = w.acts.SendEvent(w.ctx, activities.SendEventInput{Event: billing.StateApproved, CustomerID: w.cust.ID})
	require.Error(t, err, "a payment state is its subscription's")
}

// redeliverFor runs one redelivery for w's customer, everything made due.
func (w world) redeliverFor(t *testing.T) activities.RedeliverResult {
	t.Helper()
	_, err := w.st.Pool().Exec(w.ctx, `UPDATE notices SET next_attempt_at = now() - interval '1 second'
		WHERE customer_id = $1 AND next_attempt_at IS NOT NULL`, w.cust.ID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	res, err := w.acts.RedeliverNotices(ctx, activities.RedeliverInput{CustomerID: w.cust.ID})
	require.NoError(t, err)
	return res
}

// TestResendSendsOnce: staff's resend of a rejected notice is a new row
// linked to it, sent once by the redelivery; the original stays as it was;
// a second resend of the same notice is refused. A queued event is sent
// the same way.
func TestResendSendsOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en")
	w.smtp.SetFault(smtptest.Reject)
	w.renewed(t, 1)
	log, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	first := log[0]
	require.Equal(t, billing.NoticeRejected, first.Status)
	w.smtp.SetFault(smtptest.Accept)

	again, err := w.st.ResendNotice(w.ctx, first.ID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, &first.ID, again.ResendOf)
	require.Equal(t, billing.NoticeQueued, again.Status)
	require.Equal(t, first.Recipient, again.Recipient)
	_, err = w.st.ResendNotice(w.ctx, first.ID, time.Hour)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))
	require.ErrorContains(t, err, "resent already")

	require.Equal(t, 1, w.redeliverFor(t).Sent)
	require.Zero(t, w.redeliverFor(t).Claimed, "sent once")
	require.Equal(t, 1, w.smtp.Count("VPS was renewed"))
	got, err := w.st.Notice(w.ctx, again.ID)
	require.NoError(t, err)
	require.Equal(t, billing.NoticeSent, got.Status)
	orig, err := w.st.Notice(w.ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, billing.NoticeRejected, orig.Status, "the original keeps its outcome")
	require.NotEqual(t, orig.Key, got.Key, "a resend has its own key")

	queued, err := activities.QueueEvent(w.ctx, w.st, activities.SendEventInput{Event: notices.EventAccountDeleted, CustomerID: w.cust.ID,
		Vars: map[string]string{"[REASON]": "asked for it"}}, "")
	require.NoError(t, err)
	require.Len(t, queued, 1)
	require.Equal(t, billing.NoticeQueued, queued[0].Status)
	again2, err := activities.QueueEvent(w.ctx, w.st, activities.SendEventInput{Event: notices.EventAccountDeleted, CustomerID: w.cust.ID}, "")
	require.NoError(t, err)
	require.Empty(t, again2, "queued once per key")
	require.Equal(t, 1, w.redeliverFor(t).Sent)
	require.Equal(t, 1, w.smtp.Count("was deleted"))
}

// TestUnknownSMSIsNotResent: an SMS whose outcome is unknown may have
// arrived; staff can't resend it (an unknown email they can).
func TestUnknownSMSIsNotResent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en")
	w.renewed(t, 1)
	log, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	_, err = w.st.Pool().Exec(w.ctx, `UPDATE notices SET status = 'unknown', channel = 'sms' WHERE id = $1`, log[0].ID)
	require.NoError(t, err)
	_, err = w.st.ResendNotice(w.ctx, log[0].ID, time.Hour)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))
	require.ErrorContains(t, err, "never sent twice")
	_, err = w.st.Pool().Exec(w.ctx, `UPDATE notices SET channel = 'email' WHERE id = $1`, log[0].ID)
	require.NoError(t, err)
	_, err = w.st.ResendNotice(w.ctx, log[0].ID, time.Hour)
	require.NoError(t, err, "an unknown email is resent")
}

// TestResendOfAFailedNoticeSendsItOnce: a failed notice is still sent
// again by the redelivery until its horizon; staff's resend of it must not
// make the customer receive it twice (the original and the copy).
func TestResendOfAFailedNoticeSendsItOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en")
	w.smtp.SetFault(smtptest.TempFail)
	w.renewed(t, 1)
	log, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	first := log[0]
	require.Equal(t, billing.NoticeFailed, first.Status)
	w.smtp.SetFault(smtptest.Accept)

	again, err := w.st.ResendNotice(w.ctx, first.ID, time.Hour)
	require.NoError(t, err)
	orig, err := w.st.Notice(w.ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, billing.NoticeExpired, orig.Status, "the copy replaces it")
	require.Contains(t, orig.Error, "resent as notification")
	_, err = w.st.ResendNotice(w.ctx, first.ID, time.Hour)
	require.ErrorContains(t, err, "resent already")
	w.redeliverFor(t)
	w.redeliverFor(t)
	w.renewed(t, 1) // a retried SendNotices finds the original settled
	require.Equal(t, 1, w.smtp.Count("VPS was renewed"), "the customer gets the notice once")
	got, err := w.st.Notice(w.ctx, again.ID)
	require.NoError(t, err)
	require.Equal(t, billing.NoticeSent, got.Status)
}

// TestConcurrentResends: two staff resending the same notice at once: one
// copy, the other is told it was resent already.
func TestConcurrentResends(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en")
	w.smtp.SetFault(smtptest.Reject)
	w.renewed(t, 1)
	log, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := w.st.ResendNotice(w.ctx, log[0].ID, time.Hour)
			errs <- err
		}()
	}
	ok := 0
	for range 8 {
		if err := <-errs; err == nil {
			ok++
		} else {
			require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
		}
	}
	require.Equal(t, 1, ok)
	all, err := w.st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

// TestDeletionWarningCountsFromDelivery: an inactivity warning the mail
// server doesn't take is not recorded as given, so the customer can't be
// deleted on it; once the redelivery has delivered it, the next run records
// the moment it was sent, and the deletion counts its 7 days from there.
func TestDeletionWarningCountsFromDelivery(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "en", "en")
	require.NoError(t, w.smtp.Down())
	last := time.Now().Add(-40 * 24 * time.Hour)
	in := activities.WarnInactiveInput{CustomerID: w.cust.ID, LastActivity: last, Days: 30}
	res, err := w.acts.WarnInactiveCustomer(w.ctx, in)
	require.NoError(t, err)
	require.False(t, res.Warned, "not delivered: not a warning")
	var warnedAt *time.Time
	require.NoError(t, w.st.Pool().QueryRow(w.ctx, `SELECT deletion_warned_at FROM customers WHERE id = $1`, w.cust.ID).Scan(&warnedAt))
	require.Nil(t, warnedAt)

	require.NoError(t, w.smtp.Up())
	require.Equal(t, 1, w.redeliverFor(t).Sent, "the redelivery sends it")
	sentAt := time.Now()
	res, err = w.acts.WarnInactiveCustomer(w.ctx, in) // the next run
	require.NoError(t, err)
	require.True(t, res.Warned)
	require.Zero(t, res.Sent.Sent, "not sent twice")
	require.Equal(t, 1, w.smtp.Count("will be deleted"))
	require.NoError(t, w.st.Pool().QueryRow(w.ctx, `SELECT deletion_warned_at FROM customers WHERE id = $1`, w.cust.ID).Scan(&warnedAt))
	require.NotNil(t, warnedAt)
	require.WithinDuration(t, sentAt, *warnedAt, time.Minute, "the moment it was delivered")
	require.False(t, res.DeleteAt.Before(warnedAt.Add(7*24*time.Hour)), "7 days after the delivery at the earliest")
}

// TestStaffTemplateAndBack: an English staff template wins over the
// built-in one; deleting it brings the built-in text back. (English
// templates would reach every other test's users: this test has its own
// database.)
func TestStaffTemplateAndBack(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.OwnPool(t))
	w := newWorldIn(t, st, "en", "en")
	require.NoError(t, st.SetMessageTemplates(w.ctx, billing.MessageTemplate{Event: billing.MilestoneRenewed,
		Channel: billing.ChannelEmail, Language: "en", Subject: "Staff: [PAYMENT_NAME] renewed", Body: "Hi [USER_NAME]"}))
	w.renewed(t, 1)
	n, err := st.DeleteMessageTemplates(w.ctx, [3]string{billing.MilestoneRenewed, billing.ChannelEmail, "en"})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	w.renewed(t, 2)
	msgs := w.smtp.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "Staff: VPS renewed", msgs[0].Subject, "staff's template wins")
	require.Equal(t, "VPS was renewed", msgs[1].Subject, "deleted: the built-in text again")
}

// TestResendRefusesWhatIsNotUndelivered: a notification being sent, sent
// or queued can't be resent; and /metrics' counts include queued ones.
func TestResendRefusesWhatIsNotUndelivered(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.OwnPool(t))
	w := newWorldIn(t, st, "en", "en")
	w.renewed(t, 1)
	log, err := st.Notices(w.ctx, w.sub.ID)
	require.NoError(t, err)
	require.Len(t, log, 1)
	for _, status := range []string{billing.NoticeSending, billing.NoticeSent, billing.NoticeQueued} {
		_, err = st.Pool().Exec(w.ctx, `UPDATE notices SET status = $2 WHERE id = $1`, log[0].ID, status)
		require.NoError(t, err)
		_, err = st.ResendNotice(w.ctx, log[0].ID, time.Hour)
		require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), status)
		require.ErrorContains(t, err, "is "+status, status)
	}
	counts, err := st.NoticeCounts(w.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, counts[billing.NoticeQueued], "the metrics count a queued notice")
}
