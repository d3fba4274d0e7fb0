package activities_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// flakyMail fails its first failures sends, then records; a fake mail server
// inside this unit test.
type flakyMail struct {
	mu       sync.Mutex
	failures int
	sent     []mail.Message
	// onSend, if set, runs after each message sent (outside the lock): a
	// test's way to act between two sends of one batch.
	onSend func(mail.Message)
}

func (f *flakyMail) Send(_ context.Context, m mail.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return "", errors.New("421 try again later")
	}
	f.sent = append(f.sent, m)
	if f.onSend != nil {
		f.mu.Unlock()
		f.onSend(m)
		f.mu.Lock()
	}
	return "<id>", nil
}

type noSMS struct{}

func (noSMS) Send(context.Context, string, string) (string, error) {
	return "", errors.New("no SMS here")
}

type fixture struct {
	ctx  context.Context
	st   *store.Store
	acts *activities.Activities
	mail *flakyMail
	cust billing.Customer
	prod billing.Product
	sub  billing.Subscription
	db   *pgxpool.Pool
}

func setup(t *testing.T, product billing.ProductInput) fixture {
	t.Helper()
	return setupOn(t, dbtest.Pool(t), product)
}

// setupOn is setup on another database than the package's.
func setupOn(t *testing.T, db *pgxpool.Pool, product billing.ProductInput) fixture {
	t.Helper()
	ctx := t.Context()
	st := store.New(db)
	login := "a" + strings.ToLower(rand.Text()[:10])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Acts", Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com", FirstName: "Ann"}}
	in.Defaults()
	c, _, err := st.CreateCustomer(ctx, in, "x")
	require.NoError(t, err)
	if product.Price == nil {
		price := int64(250)
		product.Price = &price
	}
	product.Name, product.Currency, product.PeriodUnit = "VPS", "EUR", billing.PeriodMonth
	p, err := st.CreateProduct(ctx, product.Product())
	require.NoError(t, err)
	yes := true
	order, err := st.CreateSubscription(ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID, AutoRenew: &yes}, "", 0)
	require.NoError(t, err)
	sub := order.Subscription
	fm := &flakyMail{}
	acts := &activities.Activities{Store: st, Mail: fm, SMS: noSMS{}, MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler),
		Steps: []activities.Step{{Name: "LogStep", Milestones: []string{"activated"}}}}
	return fixture{ctx: ctx, st: st, acts: acts, mail: fm, cust: c, prod: p, sub: sub, db: db}
}

// TestSendNoticesOnce: a retried activity sends nothing twice, and a send
// that failed is sent on the retry.
func TestSendNoticesOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{PaymentStates: map[string]billing.NoticeSetting{
		billing.StateIncoming: {Email: true, Subject: "[PAYMENT_AMOUNT] on [DATE_OF_PAYMENT]", Body: "Hi [USER_NAME] ([LOGIN]), balance [ACCOUNT_STATE]"}}})
	f.mail.failures = 1
	in := activities.SendNoticesInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1,
		Notices:   []activities.NoticeRequest{{Milestone: "incoming", Key: "incoming", ProductState: true}, {Milestone: "activated", Key: "activated"}},
		Plan:      activities.Plan{ProductID: f.prod.ID, ProductName: "VPS", Price: 250, Currency: "EUR", TimeZone: "Europe/Berlin"},
		PaidUntil: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	res, err := f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err, "a failed send doesn't fail the activity: billing goes on")
	require.Equal(t, activities.SendNoticesResult{Sent: 1, Deferred: 1}, res)
	require.Len(t, f.mail.sent, 1)
	res, err = f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.SendNoticesResult{Sent: 1, AlreadySent: 1}, res, "a retry sends only what failed")
	res, err = f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.SendNoticesResult{AlreadySent: 2}, res)
	require.Len(t, f.mail.sent, 2, "each notice went out exactly once")
	var incoming mail.Message
	for _, m := range f.mail.sent {
		if strings.Contains(m.Subject, "EUR") {
			incoming = m
		}
	}
	require.Equal(t, "2.50 EUR on 2026-12-01 10:00 CET", incoming.Subject, "dates in the customer's time zone")
	require.Contains(t, incoming.Body, "Hi Ann (")
	require.Contains(t, incoming.Body, "balance 0.00 EUR")
	notices, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	require.Len(t, notices, 2)
	for _, n := range notices {
		require.Equal(t, billing.NoticeSent, n.Status)
	}

	// Below-balance notices go only while the balance is short.
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 300, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	res, err = f.acts.SendNotices(f.ctx, activities.SendNoticesInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1,
		Notices: []activities.NoticeRequest{{Milestone: "insufficient_funds", Key: "insufficient_funds:3", OnlyIfBalanceBelow: 250}},
		Plan:    in.Plan})
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped)
}

// TestWebhookIsSigned: the webhook step POSTs the milestone with an HMAC
// signature the receiver can check, and a non-2xx answer fails (so it is retried).
func TestWebhookIsSigned(t *testing.T) {
	t.Parallel()
	var got struct {
		body []byte
		sig  string
		id   string
	}
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.body, _ = io.ReadAll(r.Body)
		got.sig, got.id = r.Header.Get("X-Billing-Signature"), r.Header.Get("X-Billing-Event-ID")
		w.WriteHeader(status)
	}))
	defer srv.Close()
	secret := "s3cret-s3cret-s3cret"
	f := setup(t, billing.ProductInput{WebhookURL: srv.URL, WebhookSecret: &secret, Steps: []string{"LogStep"}})
	f.acts.AllowPrivateWebhooks = true // the receiver listens on 127.0.0.1

	found, err := f.acts.StepsFor(f.ctx, activities.StepsForInput{SubscriptionID: f.sub.ID, Milestone: "activated"})
	require.NoError(t, err)
	require.Equal(t, []string{"LogStep", "Webhook"}, found.Activities)
	found, err = f.acts.StepsFor(f.ctx, activities.StepsForInput{SubscriptionID: f.sub.ID, Milestone: "deleted"})
	require.NoError(t, err)
	require.Equal(t, []string{"Webhook"}, found.Activities, "LogStep is registered for activation only")

	in := activities.StepInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, ProductID: f.prod.ID, Milestone: "activated", Period: 1, Status: "active"}
	_, err = f.acts.Webhook(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, "sha256="+activities.Sign(secret, got.body), got.sig)
	var ev activities.WebhookEvent
	require.NoError(t, json.Unmarshal(got.body, &ev))
	require.Equal(t, "activated", ev.Milestone)
	require.Equal(t, ev.ID, got.id)

	status = http.StatusBadGateway
	_, err = f.acts.Webhook(f.ctx, in)
	require.ErrorContains(t, err, "502")
}

// TestWebhookReachesOnlyPublicAddresses: a webhook URL that leads to a
// loopback address (saved before the rule, or a name that now resolves
// there) is not connected to unless AllowPrivateWebhooks, and the refusal is
// not retried.
func TestWebhookReachesOnlyPublicAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	secret := "s3cret-s3cret-s3cret"
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		f := setup(t, billing.ProductInput{WebhookURL: u + "/hook", WebhookSecret: &secret})
		in := activities.StepInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, ProductID: f.prod.ID, Milestone: "activated", Period: 1, Status: "active"}

		_, err := f.acts.Webhook(f.ctx, in)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr, u)
		require.Equal(t, activities.ErrWebhookRefused, appErr.Type())
		require.True(t, appErr.NonRetryable())
		require.Contains(t, appErr.Error(), "127.0.0.1 is a loopback address")
		require.Zero(t, hits.Load(), "the loopback receiver was not reached")

		f.acts.AllowPrivateWebhooks = true
		res, err := f.acts.Webhook(f.ctx, in)
		require.NoError(t, err, u)
		require.Contains(t, res.Note, "delivered")
		require.Equal(t, int32(1), hits.Swap(0))
	}
}

// TestChargePeriodPricesAndDates: one period at the product's current price,
// dated calendar-correct, once per period however often it runs.
func TestChargePeriodPricesAndDates(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	_, err := f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	in := activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, ErrorCodes: true, From: time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)}
	for range 3 {
		res, err := f.acts.ChargePeriod(f.ctx, in)
		require.NoError(t, err)
		require.Equal(t, time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC), res.PaidUntil)
		require.Equal(t, int64(250), res.Plan.Price)
	}
	b, err := f.st.Balance(f.ctx, f.cust.ID)
	require.NoError(t, err)
	require.Equal(t, int64(750), b.Of("EUR"))
	sub, err := f.st.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionActive, sub.Status)

	in.Period, in.From = 2, time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Debit, Amount: 700, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	_, err = f.acts.ChargePeriod(f.ctx, in)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrInsufficientFunds, appErr.Type())
	require.True(t, appErr.NonRetryable())
}
