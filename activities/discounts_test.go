package activities_test

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// TestChargePeriodDiscountsTheAnnouncedPrice: a renewal charges the price
// its notices announced, less the discount valid at the period's start,
// even one created after the notice: never more than announced. A discount
// that begins after the period's start doesn't apply to it.
func TestChargePeriodDiscountsTheAnnouncedPrice(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{}) // 2.50 EUR
	_, err := f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 10000, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	from := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	// The incoming notice announced 2.50; then the price rose to 4.00 and
	// staff gave a 10% discount valid from before the period's start.
	announced := activities.Plan{ProductID: f.prod.ID, ProductName: "VPS", Price: 250, Currency: "EUR"}
	_, err = f.st.Pool().Exec(f.ctx, `UPDATE products SET price = 400 WHERE id = $1`, f.prod.ID)
	require.NoError(t, err)
	bp := 1000
	d, err := f.st.CreateDiscount(f.ctx, f.cust.ID, billing.DiscountInput{PercentBP: &bp, ValidFrom: &from})
	require.NoError(t, err)
	later := from.Add(time.Second)
	half := 5000
	_, err = f.st.CreateDiscount(f.ctx, f.cust.ID, billing.DiscountInput{PercentBP: &half, ValidFrom: &later})
	require.NoError(t, err)

	entry := func(id int64) (amount int64, reference string) {
		require.NoError(t, f.st.Pool().QueryRow(f.ctx, `SELECT amount, reference FROM ledger_entries WHERE id = $1`, id).Scan(&amount, &reference))
		return amount, reference
	}
	res, err := f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
		Period: 2, From: from, Announced: &announced, ErrorCodes: true})
	require.NoError(t, err)
	amount, ref := entry(res.EntryID)
	require.Equal(t, int64(225), amount, "the announced 2.50 less 10%, not today's 4.00; the 50% begins a second later")
	require.Equal(t, fmt.Sprintf("subscription %d, period 2: VPS, discount #%d 10%%", f.sub.ID, d.ID), ref)
	require.Equal(t, int64(250), res.Plan.Price, "the plan is the list price announced")
	again, err := f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
		Period: 2, From: from, Announced: &announced, ErrorCodes: true})
	require.NoError(t, err)
	require.Equal(t, res.EntryID, again.EntryID, "a retry finds the charge")

	// Without an announcement, today's price less the best discount at its start.
	res, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
		Period: 3, From: from.AddDate(0, 1, 0), ErrorCodes: true})
	require.NoError(t, err)
	amount, _ = entry(res.EntryID)
	require.Equal(t, int64(200), amount, "4.00 less 50%")
}

// TestLowMoneyNoticeComparesWithTheDiscountedPrice: the "insufficient funds
// for automatic renewal" notice is sent only while the balance is below the
// price the renewal will charge: the price less the discount valid at the
// next period's start (PaidUntil).
func TestLowMoneyNoticeComparesWithTheDiscountedPrice(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{}) // 2.50 EUR
	_, err := f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 240, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	next := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	bp := 1000
	_, err = f.st.CreateDiscount(f.ctx, f.cust.ID, billing.DiscountInput{PercentBP: &bp, ValidFrom: &next})
	require.NoError(t, err)
	notify := func(period int, paidUntil time.Time) activities.SendNoticesResult {
		res, err := f.acts.SendNotices(f.ctx, activities.SendNoticesInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: period,
			Notices: []activities.NoticeRequest{{Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:3", OnlyIfBalanceBelow: 250}},
			Plan:    activities.Plan{ProductID: f.prod.ID, ProductName: "VPS", Price: 250, Currency: "EUR", TimeZone: "UTC"}, PaidUntil: paidUntil})
		require.NoError(t, err)
		return res
	}
	require.Equal(t, activities.SendNoticesResult{Skipped: 1}, notify(1, next), "2.40 covers 2.50 less 10% (2.25)")
	require.Empty(t, f.mail.sent)
	require.Equal(t, activities.SendNoticesResult{Sent: 1}, notify(2, next.Add(-time.Second)),
		"a period that begins before the discount costs 2.50: 2.40 is short")
	require.Len(t, f.mail.sent, 1)
}

// TestChargeNoticesNameWhatWasCharged: the notices about a period's charge
// (activated: "... was charged from your balance", renewed: "renewed for
// ...", the product's approved state) name what the charge took, the price
// less the discount, not the list price: nothing for a period discounted to
// nothing, 2.25 EUR for 10% off 2.50 EUR.
func TestChargeNoticesNameWhatWasCharged(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{PaymentStates: map[string]billing.NoticeSetting{ // 2.50 EUR
		billing.StateApproved: {Email: true, Subject: "Charged [PAYMENT_AMOUNT]", Body: "Balance [ACCOUNT_STATE]"}}})
	_, err := f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	order := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	renewal := order.AddDate(0, 1, 0)
	whole, tenth := 10000, 1000
	until := order.Add(time.Hour)
	_, err = f.st.CreateDiscount(f.ctx, f.cust.ID, billing.DiscountInput{PercentBP: &whole, ValidFrom: &order, ValidUntil: &until})
	require.NoError(t, err)
	_, err = f.st.CreateDiscount(f.ctx, f.cust.ID, billing.DiscountInput{PercentBP: &tenth, ValidFrom: &renewal})
	require.NoError(t, err)

	notify := func(period int, plan activities.Plan, paidUntil time.Time, reqs ...activities.NoticeRequest) []string {
		t.Helper()
		f.mail.sent = nil
		_, err := f.acts.SendNotices(f.ctx, activities.SendNoticesInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
			Period: period, Notices: reqs, Plan: plan, PaidUntil: paidUntil})
		require.NoError(t, err)
		var got []string
		for _, m := range f.mail.sent {
			got = append(got, m.Subject+"\n"+m.Body)
		}
		return got
	}
	res, err := f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
		Period: 1, From: order, ErrorCodes: true})
	require.NoError(t, err)
	require.Zero(t, res.EntryID, "free: nothing written")
	require.Equal(t, int64(250), res.Plan.Price, "the plan is the list price")
	got := notify(1, res.Plan, res.PaidUntil, activities.NoticeRequest{Milestone: billing.MilestoneActivated, Key: billing.MilestoneActivated})
	require.Len(t, got, 1)
	require.Contains(t, got[0], "0.00 EUR was charged from your balance, which is now 10.00 EUR")

	res, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
		Period: 2, From: res.PaidUntil, ErrorCodes: true})
	require.NoError(t, err)
	require.NotZero(t, res.EntryID)
	got = notify(2, res.Plan, res.PaidUntil,
		activities.NoticeRequest{Milestone: billing.MilestoneApproved, Key: billing.MilestoneApproved, ProductState: true},
		activities.NoticeRequest{Milestone: billing.MilestoneRenewed, Key: billing.MilestoneRenewed})
	require.Len(t, got, 2)
	require.Equal(t, "Charged 2.25 EUR\nBalance 7.75 EUR", got[0])
	require.Contains(t, got[1], "was renewed for 2.25 EUR")
}
