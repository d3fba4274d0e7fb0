package activities_test

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/mail"
)

// publish saves reminders as f's subscription's workflow does with its
// schedule, as version v.
func (f fixture) publish(t *testing.T, v int64, rs ...activities.Reminder) {
	t.Helper()
	require.NoError(t, f.acts.SaveSchedule(f.ctx, activities.SaveScheduleInput{SubscriptionID: f.sub.ID, Version: v,
		Schedule: json.RawMessage(`{"status":"active","period":1}`), Reminders: rs}))
}

// remind runs one batch of the reminders schedule at now, for f's
// subscription only (other tests share the database).
func (f fixture) remind(t *testing.T, now time.Time) activities.SendDueRemindersResult {
	t.Helper()
	res, err := f.acts.SendDueReminders(f.ctx, activities.SendDueRemindersInput{Now: now, SubscriptionID: f.sub.ID})
	require.NoError(t, err)
	return res
}

func (f fixture) insufficient() int {
	n := 0
	for _, m := range f.mail.sent {
		if strings.Contains(m.Subject, "nsufficient") {
			n++
		}
	}
	return n
}

// TestRemindersAreSentOnceEachAtTheirTime: the reminders schedule sends
// each reminder a workflow published once it falls due, once: a batch run
// again at the same moment, or again after a crash between sending and
// recording it handled, sends nothing more.
func TestRemindersAreSentOnceEachAtTheirTime(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	r5 := activities.Reminder{At: paid.AddDate(0, 0, -5), Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:5", Days: 5,
		Period: 1, PaidUntil: paid, BelowPrice: true}
	r4 := r5
	r4.At, r4.Key, r4.Days = paid.AddDate(0, 0, -4), "insufficient_funds:4", 4
	f.publish(t, 1, r5, r4)

	require.Equal(t, 0, f.remind(t, r5.At.Add(-time.Second)).Subscriptions, "not due yet")
	res := f.remind(t, r5.At)
	require.Equal(t, 1, res.Sent, "%+v", res)
	require.Equal(t, []activities.Reminder{r5}, stripped(res.Reminded))
	require.Equal(t, 1, f.insufficient())
	require.Contains(t, f.mail.sent[0].Body, "5", "names the days")
	require.Equal(t, 0, f.remind(t, r5.At.Add(time.Minute)).Subscriptions, "handled: not looked at again")

	// A batch that sent and died before recording it: the next finds the
	// notice claimed and sends nothing twice.
	_, err := f.db.Exec(f.ctx, `UPDATE subscriptions SET reminded_through = NULL, reminders_at = $2 WHERE id = $1`, f.sub.ID, r5.At)
	require.NoError(t, err)
	res = f.remind(t, r5.At.Add(time.Minute))
	require.Equal(t, activities.SendDueRemindersResult{Subscriptions: 1, SendNoticesResult: activities.SendNoticesResult{AlreadySent: 1}, Reminded: res.Reminded}, res)
	require.Equal(t, 1, f.insufficient())

	res = f.remind(t, r4.At.Add(30*time.Second))
	require.Equal(t, 1, res.Sent)
	require.Equal(t, 2, f.insufficient())

	// A workflow saving its schedule again (an update) republishes the
	// same reminders: those handled stay handled.
	f.publish(t, 2, r5, r4)
	require.Equal(t, 0, f.remind(t, r4.At.Add(time.Minute)).Subscriptions)
	require.Equal(t, 2, f.insufficient())
}

// stripped drops the monotonic clock readings, for comparing.
func stripped(rs []activities.Reminder) []activities.Reminder {
	for i := range rs {
		rs[i].At, rs[i].PaidUntil = rs[i].At.UTC(), rs[i].PaidUntil.UTC()
	}
	return rs
}

// TestRemindersAfterAnOutage: after days without a batch (the schedule
// paused), only the latest reminder due is sent, not one per day missed,
// but reminders a few seconds apart that one batch finds (a product billed
// in seconds) all go out; none while the balance covers the price; the last
// one still, moments after the paid-until date (the renewal refused), but
// none more than an hour after it.
func TestRemindersAfterAnOutage(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	var rs []activities.Reminder
	for _, d := range []int{5, 4, 3, 2, 1} {
		rs = append(rs, activities.Reminder{At: paid.AddDate(0, 0, -d), Milestone: billing.MilestoneLowMoney,
			Key: "insufficient_funds:" + string(rune('0'+d)), Days: d, Period: 1, PaidUntil: paid, BelowPrice: true})
	}
	f.publish(t, 1, rs...)
	res := f.remind(t, paid.AddDate(0, 0, -2).Add(30*time.Minute))
	require.Equal(t, 1, res.Sent)
	require.Equal(t, 2, res.Reminded[0].Days, "the latest due: 2 days before")
	require.Equal(t, 1, f.insufficient())

	// The balance now covers the price: the next is not needed.
	_, err := f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 250, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	res = f.remind(t, paid.AddDate(0, 0, -1))
	require.Equal(t, activities.SendDueRemindersResult{Subscriptions: 1, SendNoticesResult: activities.SendNoticesResult{Skipped: 1}, Reminded: res.Reminded}, res)
	require.Equal(t, 1, f.insufficient())

	// Still listed (the renewal was refused), looked at moments after the
	// paid-until date: the last reminder goes out, late by a second.
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Debit, Amount: 250, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	_, err = f.db.Exec(f.ctx, `UPDATE subscriptions SET reminded_through = $2, reminders_at = $3 WHERE id = $1`, f.sub.ID, rs[3].At, rs[4].At)
	require.NoError(t, err)
	res = f.remind(t, paid.Add(time.Second))
	require.Equal(t, 1, res.Sent, "%+v", res)
	require.Equal(t, 2, f.insufficient())

	// Published again from scratch, but looked at only more than an hour
	// after the paid-until date: nothing is sent that late.
	_, err = f.db.Exec(f.ctx, `UPDATE subscriptions SET reminded_through = NULL, reminders_at = $2 WHERE id = $1`, f.sub.ID, rs[0].At)
	require.NoError(t, err)
	res = f.remind(t, paid.Add(time.Hour+time.Second))
	require.Equal(t, 0, res.Sent+res.Skipped+res.AlreadySent, "%+v", res)
	require.Equal(t, 1, res.Subscriptions, "looked at and handled")
	require.Equal(t, 0, f.remind(t, paid.Add(2*time.Hour)).Subscriptions)
	require.Equal(t, 2, f.insufficient())
}

// TestFirstAnnouncementStands: the price a reminder names is announced for
// the next period; a price change after it changes neither the next
// reminders, nor what the workflow reads for the period (ReadPlan), nor
// what its renewal charges, even if the workflow never read it.
func TestFirstAnnouncementStands(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	r5 := activities.Reminder{At: paid.AddDate(0, 0, -5), Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:5", Days: 5,
		Period: 1, PaidUntil: paid, BelowPrice: true}
	f.publish(t, 1, r5)
	require.Equal(t, 1, f.remind(t, r5.At).Sent)
	require.Contains(t, f.mail.sent[0].Body, "2.50", "names the price: %s", f.mail.sent[0].Body)

	f.prod.Price = 900
	_, err := f.st.UpdateProduct(f.ctx, f.prod.ID, f.prod)
	require.NoError(t, err)

	p, err := f.acts.ReadPlan(f.ctx, activities.ReadPlanInput{SubscriptionID: f.sub.ID, Period: 2})
	require.NoError(t, err)
	require.Equal(t, int64(250), p.Price, "the workflow reads the announced price")
	p, err = f.acts.ReadPlan(f.ctx, activities.ReadPlanInput{SubscriptionID: f.sub.ID})
	require.NoError(t, err)
	require.Equal(t, int64(900), p.Price, "without a period: the product's price now")

	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 10_000, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	_, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, From: paid.AddDate(0, -1, 0), ErrorCodes: true})
	require.NoError(t, err)
	res, err := f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 2, From: paid, ErrorCodes: true})
	require.NoError(t, err)
	require.Equal(t, int64(250), res.Plan.Price, "the renewal charges the announced price")

	// The period after it was announced by nobody: today's price.
	res, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 3, From: res.PaidUntil, ErrorCodes: true})
	require.NoError(t, err)
	require.Equal(t, int64(900), res.Plan.Price)
}

// TestRemindersSecondsApart: a product billed in seconds has its "days" in
// seconds; a batch that comes a few seconds late sends each reminder it
// finds, in order.
func TestRemindersSecondsApart(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	var rs []activities.Reminder
	for _, d := range []int{3, 2, 1} {
		rs = append(rs, activities.Reminder{At: paid.Add(-time.Duration(d) * time.Second), Milestone: billing.MilestoneLowMoney,
			Key: "insufficient_funds:" + string(rune('0'+d)), Days: d, Period: 1, PaidUntil: paid, BelowPrice: true})
	}
	f.publish(t, 1, rs...)
	res := f.remind(t, paid.Add(-500*time.Millisecond))
	require.Equal(t, 3, res.Sent, "%+v", res)
	require.Equal(t, []int{3, 2, 1}, []int{res.Reminded[0].Days, res.Reminded[1].Days, res.Reminded[2].Days})
}

// TestReminderShards: a subscription's reminders are in one shard only.
func TestReminderShards(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	f.publish(t, 1, activities.Reminder{At: paid.AddDate(0, 0, -1), Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:1",
		Days: 1, Period: 1, PaidUntil: paid, BelowPrice: true})
	mine := int(f.sub.ID % 3)
	for shard := range 3 {
		if shard == mine {
			continue
		}
		res, err := f.acts.SendDueReminders(f.ctx, activities.SendDueRemindersInput{Now: paid.Add(-time.Hour), SubscriptionID: f.sub.ID, Shard: shard, Shards: 3})
		require.NoError(t, err)
		require.Equal(t, 0, res.Subscriptions, "shard %d", shard)
	}
	res, err := f.acts.SendDueReminders(f.ctx, activities.SendDueRemindersInput{Now: paid.Add(-time.Hour), SubscriptionID: f.sub.ID, Shard: mine, Shards: 3})
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
}

// TestRemindersBatchSendsTheLatestSchedule: a batch reads its
// subscriptions' reminders once, then sends for one after the other. A
// workflow that saves its schedule meanwhile (its service cancelled, or new
// reminders published) is obeyed: nothing goes out for a service whose
// reminders were withdrawn, and a reminder published while the batch ran is
// not recorded handled unsent.
func TestRemindersBatchSendsTheLatestSchedule(t *testing.T) {
	t.Parallel()
	db := dbtest.OwnPool(t) // the batch looks at every subscription of the database
	a := setupOn(t, db, billing.ProductInput{})
	b := setupOn(t, db, billing.ProductInput{})
	paid := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	r5 := activities.Reminder{At: paid.AddDate(0, 0, -5), Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:5", Days: 5,
		Period: 1, PaidUntil: paid, BelowPrice: true}
	ra := r5
	ra.At = r5.At.Add(-time.Second) // a's first
	a.publish(t, 1, ra)
	b.publish(t, 1, r5)
	now := r5.At.Add(30 * time.Second)
	r4 := r5
	r4.At, r4.Key, r4.Days = now.Add(-time.Second), "insufficient_funds:4", 4
	once := false
	a.mail.onSend = func(mail.Message) {
		if once {
			return
		}
		once = true
		// While a's reminder goes out, b's service is cancelled (its
		// workflow withdraws the reminders) and a's workflow publishes a
		// reminder due already.
		b.publish(t, 2)
		a.publish(t, 2, ra, r4)
	}
	to := func(f fixture) int { // the batch's mail is a's: count f's subscription's notices
		ns, err := f.st.Notices(f.ctx, f.sub.ID)
		require.NoError(t, err)
		n := 0
		for _, x := range ns {
			if x.Milestone == billing.MilestoneLowMoney && x.Status == billing.NoticeSent {
				n++
			}
		}
		return n
	}
	res, err := a.acts.SendDueReminders(a.ctx, activities.SendDueRemindersInput{Now: now})
	require.NoError(t, err)
	require.Equal(t, 0, to(b), "b's reminders were withdrawn before the batch came to them: %+v", res)
	require.Equal(t, 1, to(a))
	require.Empty(t, res.Reminded, "a whole batch lists none: its run's history keeps the result")

	res, err = a.acts.SendDueReminders(a.ctx, activities.SendDueRemindersInput{Now: now.Add(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, 2, to(a), "the reminder published while the batch ran is sent by the next: %+v", res)
	require.Equal(t, 0, to(b))
}

// TestAnnouncementNeverGoesBack: an announcement for an earlier period (a
// reader that looked before the renewal) doesn't replace the next
// period's: the renewal still charges the price announced for it.
func TestAnnouncementNeverGoesBack(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	p, err := f.acts.ReadPlan(f.ctx, activities.ReadPlanInput{SubscriptionID: f.sub.ID, Period: 3})
	require.NoError(t, err)
	require.Equal(t, int64(250), p.Price)
	f.prod.Price = 900
	_, err = f.st.UpdateProduct(f.ctx, f.prod.ID, f.prod)
	require.NoError(t, err)
	_, err = f.acts.ReadPlan(f.ctx, activities.ReadPlanInput{SubscriptionID: f.sub.ID, Period: 2}) // late
	require.NoError(t, err)
	p, err = f.acts.ReadPlan(f.ctx, activities.ReadPlanInput{SubscriptionID: f.sub.ID, Period: 3})
	require.NoError(t, err)
	require.Equal(t, int64(250), p.Price, "period 3 was announced at 2.50")
}
