package activities

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
)

// Reminder is a notice a subscription's workflow leaves to the reminders
// schedule (workflows.RemindersWorkflow): insufficient_funds or expiring N
// > 0 days before the paid-until date. The workflow publishes its period's
// reminders with its live schedule (SaveSchedule) and never wakes up for
// them; the schedule's runs send those that fell due, for every
// subscription at once.
type Reminder struct {
	At        time.Time `json:"at"`
	Milestone string    `json:"milestone"`
	Key       string    `json:"key"` // the notice's key in the period, as the workflow would have sent it
	Days      int       `json:"days"`
	Period    int       `json:"period"` // the period the notice is sent in (the one that ends at PaidUntil)
	PaidUntil time.Time `json:"paid_until"`
	// ProductID is the next period's product if it was changed (0: the
	// subscription's own): the plan the reminder names and announces.
	ProductID int64 `json:"product_id,omitempty"`
	// BelowPrice: sent only while the balance is below the next period's
	// announced price (insufficient_funds).
	BelowPrice bool `json:"below_price,omitempty"`
}

// SendDueRemindersInput is one batch of the reminders schedule.
type SendDueRemindersInput struct {
	// Limit is how many subscriptions the batch looks at (200 when 0).
	Limit int
	// Now is the time reminders are due by; zero: the time now (a test's
	// clock otherwise).
	Now time.Time
	// SubscriptionID, if set, sends only that subscription's reminders.
	SubscriptionID int64
	// Shard of Shards: only the subscriptions whose ID is Shard modulo
	// Shards (Shards 0: all), so that batches run side by side.
	Shard, Shards int
}

// SendDueRemindersResult counts what a batch did. More: the batch was full,
// more may be due. Reminded are the reminders it handled (the notices of
// each went out, were sent before, or were not needed: the balance covers
// the price), listed only for a batch of one subscription (SubscriptionID):
// a whole batch's list would swell the reminders run's history, which keeps
// every activity's result.
type SendDueRemindersResult struct {
	Subscriptions int
	SendNoticesResult
	More     bool
	Reminded []Reminder `json:",omitempty"`
}

// SendDueReminders sends the reminders due, for at most in.Limit
// subscriptions, the earliest due first. For each it announces the next
// period's plan (the first reader's price stands, see ReadPlan) and sends
// the reminders through SendNotices, once per notice, channel and recipient
// as the workflow would have, and only then records them handled: a crash
// between the two sends nothing twice, as the next batch finds the notices
// claimed. After an outage (the schedule paused, say) a reminder more than
// an hour late is dropped if a later one of its kind is due too: the
// client gets "3 days", not "5 days", "4 days" and "3 days" at once. None
// is sent more than staleAfter past the paid-until date: the renewal or the
// expiry has spoken since. (A renewal charged replaces the period's
// reminders with the next period's in the row, which the batch reads again
// just before sending: none of the old period's goes out after it. The hour
// is for a reminder the batch reaches moments after the renewal's moment,
// with the renewal refused: a product billed in seconds has its last
// reminder a second before.)
func (a *Activities) SendDueReminders(ctx context.Context, in SendDueRemindersInput) (SendDueRemindersResult, error) {
	defer heartbeat(ctx)()
	var res SendDueRemindersResult
	limit := in.Limit
	if limit <= 0 {
		limit = 200
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	due, err := a.Store.RemindersDue(ctx, now, in.SubscriptionID, in.Shard, in.Shards, limit)
	if err != nil {
		return res, err
	}
	res.More = len(due) == limit
	for _, d := range due {
		// Read again, just before sending: the list may be minutes old
		// when the batch comes to it, and the workflow may have withdrawn
		// the reminders since (the service cancelled, suspended, renewed).
		fresh, err := a.Store.RemindersDue(ctx, now, d.SubscriptionID, 0, 0, 1)
		if err != nil {
			return res, err
		}
		if len(fresh) == 0 {
			continue // none due any more
		}
		d = fresh[0]
		var all []Reminder
		if err := json.Unmarshal(d.Reminders, &all); err != nil && a.Log != nil {
			// Never written so: skipped, not left to block the batches.
			a.Log.Error("reminders unreadable; skipped", "subscription", d.SubscriptionID, "error", err)
		}
		rs := dueReminders(all, d.Through, now)
		sent, err := a.sendReminders(ctx, d.SubscriptionID, d.CustomerID, rs)
		res.Add(sent)
		var app *temporal.ApplicationError
		if err != nil && !(errors.As(err, &app) && app.NonRetryable()) {
			return res, err // the database: the batch is retried
		}
		if err != nil && a.Log != nil {
			// One subscription that can't be notified (its customer or
			// product gone) must not hold up the others behind it.
			a.Log.Error("reminders not sent; left", "subscription", d.SubscriptionID, "error", err)
		}
		// Recorded handled only if the workflow published nothing else
		// meanwhile: otherwise the next batch sends what it added.
		if _, err := a.Store.RemindersHandled(ctx, d.SubscriptionID, now, d.Reminders); err != nil {
			return res, err
		}
		res.Subscriptions++
		if in.SubscriptionID != 0 {
			res.Reminded = append(res.Reminded, rs...)
		}
	}
	return res, nil
}

// dueReminders are the reminders of all to send at now, the last batch
// having handled those due by through (nil: none), in time order: those
// due whose paid-until date is less than staleAfter past, less those more
// than staleAfter late that a later one of their kind follows.
func dueReminders(all []Reminder, through *time.Time, now time.Time) []Reminder {
	var due []Reminder
	for _, r := range all {
		if !r.At.After(now) && (through == nil || r.At.After(*through)) && now.Before(r.PaidUntil.Add(staleAfter)) {
			due = append(due, r)
		}
	}
	slices.SortStableFunc(due, func(a, b Reminder) int { return a.At.Compare(b.At) })
	var out []Reminder
	for i, r := range due {
		later := slices.ContainsFunc(due[i+1:], func(l Reminder) bool { return l.Milestone == r.Milestone })
		if later && now.Sub(r.At) > staleAfter {
			continue
		}
		out = append(out, r)
	}
	return out
}

// staleAfter is how late a reminder may be and still go out beside a later one.
const staleAfter = time.Hour

// sendReminders sends rs, reminders of one subscription, each naming the
// plan announced for the period after its own.
func (a *Activities) sendReminders(ctx context.Context, subscriptionID, customerID int64, rs []Reminder) (SendNoticesResult, error) {
	var res SendNoticesResult
	for _, r := range rs {
		plan, err := a.plan(ctx, subscriptionID, r.ProductID)
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			res.Skipped++ // the subscription or product is gone
			continue
		}
		if err != nil {
			return res, err
		}
		if plan, err = a.announce(ctx, subscriptionID, r.Period+1, plan); err != nil {
			return res, err
		}
		req := NoticeRequest{Milestone: r.Milestone, Key: r.Key, Days: r.Days}
		if r.BelowPrice {
			if plan.Price <= 0 {
				res.Skipped++ // nothing to pay: no balance is too low
				continue
			}
			req.OnlyIfBalanceBelow = plan.Price
		}
		n, err := a.SendNotices(ctx, SendNoticesInput{SubscriptionID: subscriptionID, CustomerID: customerID, Period: r.Period,
			Notices: []NoticeRequest{req}, Plan: plan, PaidUntil: r.PaidUntil})
		res.Add(n)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
