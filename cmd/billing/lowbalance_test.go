package main

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// TestMainWatchesLowBalance: the store Main builds, which the API and the
// worker share, watches balances: a staff debit that leaves a customer's
// daily service 10 days queues low_balance.
func TestMainWatchesLowBalance(t *testing.T) {
	t.Parallel()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	dbURL, drop, err := dbtest.Create(t.Context(), base)
	require.NoError(t, err)
	t.Cleanup(drop)
	cfg, err := LoadConfig()
	require.NoError(t, err)
	cfg.DatabaseURL = dbURL
	m := NewMain(cfg)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	require.NoError(t, m.Open(t.Context()))
	ctx, st := t.Context(), m.Store

	login := "lb" + strings.ToLower(rand.Text()[:10])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Low", Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, _, err := st.CreateCustomer(ctx, in, "hash")
	require.NoError(t, err)
	price := int64(100)
	p, err := st.CreateProduct(ctx, (&billing.ProductInput{Name: "Daily", Price: &price, Currency: "EUR",
		PeriodUnit: billing.PeriodDay, PeriodCount: 1}).Product())
	require.NoError(t, err)
	_, err = st.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 2000, Currency: "EUR", Reference: "funds", IdempotencyKey: "a"})
	require.NoError(t, err)
	o, err := st.CreateSubscription(ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	now := time.Now()
	_, err = st.ChargePeriod(ctx, store.PeriodCharge{SubscriptionID: o.Subscription.ID, ProductID: p.ID, PeriodFrom: now,
		PaidUntil: now.AddDate(0, 0, 1), Charge: billing.Charge{CustomerID: c.ID, Amount: price, Currency: "EUR",
			Reason: billing.ReasonCharge, Reference: "day 1", IdempotencyKey: "day 1"}})
	require.NoError(t, err)
	_, err = st.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 900, Currency: "EUR", Reference: "fee", IdempotencyKey: "b"})
	require.NoError(t, err)
	page, err := st.Notifications(ctx, billing.NotificationFilter{CustomerID: &c.ID, Event: notices.EventLowBalance,
		PageRequest: billing.PageRequest{Limit: 10}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, "Low balance: 10.00 EUR left", page.Items[0].Subject)
}
