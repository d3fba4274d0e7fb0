package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
)

// NoticeRequest asks for the notice of one milestone.
type NoticeRequest struct {
	Milestone string
	// Key identifies the notice within the period, e.g. "insufficient_funds:3".
	Key string
	// ProductState: the notice is one of the product's payment states (seed
	// 002), sent as the product configures; otherwise a service notice.
	ProductState bool
	// OnlyIfBalanceBelow, if positive, sends only while the customer's
	// balance in the plan's currency is below it, less the customer's
	// discount for a period of the plan's product that begins at PaidUntil.
	OnlyIfBalanceBelow int64
	// Days is the [DAYS] variable: days before the date the notice is about.
	Days int
	// UpdatesUntil is the [UPDATES_UNTIL] variable of a license's
	// license_updates_expiring notice.
	UpdatesUntil time.Time
	// Parameters is the [PARAMETERS] variable of order_parameters_needed:
	// the missing order parameters, one line each.
	Parameters string
}

// SendNoticesInput sends the notices of a subscription's milestones.
type SendNoticesInput struct {
	SubscriptionID int64
	CustomerID     int64
	Period         int
	Notices        []NoticeRequest
	Plan           Plan
	PaidUntil      time.Time
	DeleteAt       time.Time
	SuspendReason  string
	// Schedule, if set, is saved first (SaveSchedule): the workflow's step
	// changed it, and readers see the change before the notices go out.
	Schedule *SaveScheduleInput `json:",omitempty"`
}

// SendNoticesResult counts what happened. Deferred notices failed, their
// outcome is unknown, or no time was left: the redelivery sends them again.
type SendNoticesResult struct {
	Sent, AlreadySent, Skipped, Deferred int
}

// Add counts o's notices in r too.
func (r *SendNoticesResult) Add(o SendNoticesResult) {
	r.Sent, r.AlreadySent, r.Skipped, r.Deferred = r.Sent+o.Sent, r.AlreadySent+o.AlreadySent, r.Skipped+o.Skipped, r.Deferred+o.Deferred
}

// Bounds of one send: at most perSend, and none is started with less than
// minSend left of the activity, so every send records its outcome in time.
const (
	perSend = 20 * time.Second
	minSend = 5 * time.Second
)

// SendNotices sends each notice by email to every user of the customer and
// by SMS to users with a phone, once per (subscription, period, notice,
// channel, recipient): a retried activity finds the earlier sends and skips
// them. A send that fails, or whose outcome is unknown, is recorded for the
// redelivery schedule (RedeliverNotices) and the activity goes on: a mail
// server that misbehaves never holds up billing. Only a database error
// fails the activity.
func (a *Activities) SendNotices(ctx context.Context, in SendNoticesInput) (SendNoticesResult, error) {
	defer heartbeat(ctx)()
	var res SendNoticesResult
	if in.Schedule != nil {
		if err := a.SaveSchedule(ctx, *in.Schedule); err != nil {
			return res, err
		}
	}
	balance, err := a.Store.Balance(ctx, in.CustomerID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	// The notices the balance makes unnecessary are dropped first: a
	// renewal's "insufficient funds 0 days before" with the money there (the
	// usual case) then reads nothing more.
	var due []NoticeRequest
	for _, req := range in.Notices {
		if req.OnlyIfBalanceBelow > 0 {
			// The renewal will charge the price less the customer's discount
			// for the period that begins at PaidUntil: compare with that.
			limit, err := a.Store.DiscountedPrice(ctx, in.CustomerID, in.Plan.ProductID, in.Plan.Currency, in.PaidUntil, req.OnlyIfBalanceBelow)
			if err != nil {
				return res, nonRetryableIfPermanent(err)
			}
			if balance.Of(in.Plan.Currency) >= limit {
				res.Skipped++
				continue
			}
		}
		due = append(due, req)
	}
	if len(due) == 0 {
		return res, nil
	}
	cust, err := a.Store.Customer(ctx, in.CustomerID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	users, err := a.Store.Users(ctx, in.CustomerID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	product, err := a.Store.Product(ctx, in.Plan.ProductID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	catalog, err := a.catalog(ctx)
	if err != nil {
		return res, err
	}
	defLang, err := defaultLanguage(ctx, a.Store, a.DefaultLanguage)
	if err != nil {
		return res, err
	}
	charged, chargedRead := in.Plan, false
	for _, req := range due {
		nin := in
		if aboutTheCharge(req.Milestone) {
			// What the period's charge took (the price less the discount,
			// nothing for a free period), not the list price.
			if !chargedRead {
				e, ok, err := a.Store.Charged(ctx, in.CustomerID, PeriodChargeKey(in.SubscriptionID, in.Period))
				if err != nil {
					return res, nonRetryableIfPermanent(err)
				}
				charged.Price = 0
				if ok {
					charged.Price, charged.Currency = e.Amount, e.Currency
				}
				chargedRead = true
			}
			nin.Plan = charged
		}
		if req.Milestone == billing.MilestoneActivated && !req.ProductState {
			// The text of the product's kind (activation of VPS...); the key
			// stays, so a notice recorded before still deduplicates.
			req.Milestone = notices.ActivationEvent(product.Kind)
		}
		if req.Milestone == billing.MilestoneLicenseUpdates && product.Kind != billing.KindLicense {
			res.Skipped++ // changed to a product of another kind: no license updates to end
			continue
		}
		nreq := notices.Request{Milestone: req.Milestone, ProductState: req.ProductState}
		if !catalog.Sends(nreq, product) {
			res.Skipped++
			continue
		}
		for _, u := range users {
			langs := notices.Languages(u.Language, cust.Language, defLang)
			for _, o := range catalog.Messages(nreq, product, facts(nin, req, u, balance), langs) {
				status, err := a.sendOnce(ctx, in, req, o)
				switch {
				case err != nil:
					return res, err // the database: retried
				case status == billing.NoticeSent:
					res.Sent++
				case status == "":
					res.AlreadySent++
				default:
					res.Deferred++
				}
			}
		}
	}
	return res, nil
}

// defaultLanguage is the language of templates when neither the
// recipient's nor the customer's has one: the global setting once settings
// are stored, else fallback, else English.
func defaultLanguage(ctx context.Context, st *store.Store, fallback string) (string, error) {
	settings, stored, err := st.StoredSettings(ctx)
	if err != nil {
		return "", err
	}
	if stored && settings.DefaultLanguage != "" {
		return settings.DefaultLanguage, nil
	}
	return cmp.Or(fallback, notices.DefaultLanguage), nil
}

// catalog reads staff's message templates.
func (a *Activities) catalog(ctx context.Context) (notices.Catalog, error) {
	ts, err := a.Store.MessageTemplates(ctx)
	if err != nil {
		return notices.Catalog{}, err
	}
	c := notices.Catalog{Custom: map[notices.TemplateKey]billing.MessageTemplate{}}
	for _, t := range ts {
		c.Custom[notices.Key(t)] = t
	}
	return c, nil
}

// sendOnce claims the notice's deduplication key, sends, and records the
// outcome. It returns the notice's status ("" if it was not claimed: sent or
// settled before); its error is only the database's.
func (a *Activities) sendOnce(ctx context.Context, in SendNoticesInput, req NoticeRequest, o notices.Message) (string, error) {
	// The key's shape predates the other events: it stays, so that a notice
	// recorded before keeps deduplicating.
	key := fmt.Sprintf("subscription:%d:period:%d:%s:%s:%s", in.SubscriptionID, in.Period, req.Key, o.Channel, o.To)
	sub := in.SubscriptionID
	until := retryUntil(req.Milestone, in, time.Now())
	return a.claimAndDeliver(ctx, key, billing.Notice{SubscriptionID: &sub, CustomerID: &in.CustomerID,
		Period: in.Period, Event: req.Milestone, ObjectType: notices.ObjectSubscription, ObjectID: strconv.FormatInt(sub, 10),
		RetryUntil: &until}, o)
}

// claimAndDeliver claims n (completed with message o) under key, then
// sends it; "" if it was not claimed.
func (a *Activities) claimAndDeliver(ctx context.Context, key string, n billing.Notice, o notices.Message) (string, error) {
	n.Channel, n.Recipient, n.Language, n.Template = o.Channel, o.To, o.Language, o.Template
	n.Subject, n.Body, n.HTMLBody, n.SenderName, n.ReplyTo = o.Subject, o.Body, o.HTMLBody, o.SenderName, o.ReplyTo
	n, claimed, err := a.Store.ClaimNotice(ctx, key, n)
	if err != nil || !claimed {
		return "", err
	}
	n.Key = key
	return a.deliver(ctx, n)
}

// deliver sends a claimed notice, bounded by ctx, and records its outcome
// with a context of its own, so that a send cut off by its deadline still
// says how it ended.
func (a *Activities) deliver(ctx context.Context, n billing.Notice) (string, error) {
	status, id, sendErr := billing.NoticeFailed, "", "no time left in this attempt; sent again later"
	if left := timeLeft(ctx); left >= minSend {
		sendCtx, cancel := context.WithTimeout(ctx, min(perSend, left-2*time.Second))
		var err error
		if n.Channel == billing.ChannelEmail {
			var files []mail.Attachment
			if files, err = a.attachments(sendCtx, n); err == nil {
				id, err = a.Mail.Send(sendCtx, mail.Message{ID: n.Key, FromName: n.SenderName, From: a.MailFrom, ReplyTo: n.ReplyTo,
					To: n.Recipient, Subject: n.Subject, Body: n.Body, HTMLBody: n.HTMLBody, ListUnsubscribe: a.listUnsubscribe(n.Event),
					Attachments: files, MessageID: n.MessageID, InReplyTo: n.InReplyTo, References: n.References})
			}
		} else {
			id, err = a.SMS.Send(sendCtx, n.Recipient, n.Body)
		}
		cancel()
		status, sendErr = deliveryStatus(err), ""
		if err != nil {
			sendErr = err.Error()
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	a.Metrics.Notice(n.Channel, status)
	if err := a.Store.FinishNotice(rctx, n, status, id, sendErr); err != nil {
		return status, err
	}
	if status != billing.NoticeSent && a.Log != nil {
		a.Log.Warn("notice not delivered yet", "notice", n.ID, "channel", n.Channel, "status", status, "error", sendErr)
	}
	return status, nil
}

// listUnsubscribe is the List-Unsubscribe header of event's emails: a
// mailto link to the sender address, for the events a customer may opt out
// of (notices.Event.ListUnsubscribe), else none.
func (a *Activities) listUnsubscribe(event string) string {
	e, err := notices.Lookup(event)
	if err != nil || !e.ListUnsubscribe || a.MailFrom == "" {
		return ""
	}
	return "<mailto:" + a.MailFrom + "?subject=" + url.QueryEscape("unsubscribe "+event) + ">"
}

// deliveryStatus is the notice status a send's error means (the rules are
// in the mail and sms packages and the README's "Notices").
func deliveryStatus(err error) string {
	var mr *mail.RejectedError
	var mu *mail.UnknownError
	var sr *sms.RejectedError
	var su *sms.UnknownError
	switch {
	case err == nil:
		return billing.NoticeSent
	case errors.As(err, &mr), errors.As(err, &sr):
		return billing.NoticeRejected
	case errors.As(err, &mu), errors.As(err, &su):
		return billing.NoticeUnknown
	}
	return billing.NoticeFailed
}

// timeLeft is how long ctx has (a minute if it has no deadline).
func timeLeft(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl)
	}
	return time.Minute
}

// retryUntil is how long a notice that failed is sent again: while what it
// announces is still ahead (the renewal for incoming and low-balance notices,
// the deletion for "will be deleted soon"), else for a day.
func retryUntil(milestone string, in SendNoticesInput, now time.Time) time.Time {
	switch milestone {
	case billing.MilestoneIncoming, billing.MilestoneLowMoney, billing.MilestoneExpiring:
		return in.PaidUntil
	case billing.MilestoneDeleteSoon, billing.MilestoneSuspended:
		if !in.DeleteAt.IsZero() {
			return in.DeleteAt
		}
	}
	return now.Add(24 * time.Hour)
}

// RedeliverInput bounds one redelivery run.
type RedeliverInput struct {
	Limit int
	// CustomerID, if not 0, keeps the run to one customer's notices.
	CustomerID int64
	// StaffID, if not 0, keeps the run to one staff member's notices (tests).
	StaffID int64
}

// RedeliverResult counts what one redelivery run did.
type RedeliverResult struct {
	Settled, Claimed, Sent, Deferred int
}

// staleSending is how long a claimed notice may stay "sending" before its
// attempt counts as dead (a killed worker): six times the longest a live
// attempt holds a claim (every path claims a notice just before its send,
// bounded by perSend, then records it within 10 seconds), so that a live
// one is never sent again beside itself, and short enough that a worker
// killed in a storm delays its notices by minutes, not ten.
const staleSending = 3 * time.Minute

// RedeliverNotices sends again the notices that are due: those that failed
// and emails whose outcome is unknown (with the same Message-ID), until
// their horizon; those past it are expired (not sent late). The redelivery
// schedule runs it every minute.
func (a *Activities) RedeliverNotices(ctx context.Context, in RedeliverInput) (RedeliverResult, error) {
	defer heartbeat(ctx)()
	var res RedeliverResult
	settled, err := a.Store.SettleStaleNotices(ctx, staleSending, in.CustomerID, in.StaffID)
	if err != nil {
		return res, err
	}
	res.Settled = int(settled)
	// One claim at a time, each sent at once: a claim is held for one send
	// and its record (see staleSending), never while others go out; what
	// this run has no time for stays due, unclaimed, for the next run.
	for limit := cmp.Or(in.Limit, 100); res.Claimed < limit && timeLeft(ctx) >= minSend; {
		due, err := a.Store.ClaimDueNotices(ctx, 1, staleSending, in.CustomerID, in.StaffID)
		if err != nil {
			return res, err
		}
		if len(due) == 0 {
			break
		}
		res.Claimed++
		status, err := a.deliver(ctx, due[0])
		if err != nil {
			return res, err
		}
		if status == billing.NoticeSent {
			res.Sent++
		} else {
			res.Deferred++
		}
	}
	return res, nil
}

// aboutTheCharge reports whether the notices of milestone are about the
// period's charge, just made: their [PAYMENT_AMOUNT] is what it took.
func aboutTheCharge(milestone string) bool {
	return milestone == billing.MilestoneActivated || milestone == billing.MilestoneRenewed || milestone == billing.MilestoneApproved
}

// facts are what the variables of req's notice to u are made of.
func facts(in SendNoticesInput, req NoticeRequest, u billing.User, b billing.Balance) notices.Facts {
	return notices.Facts{User: u, Balance: billing.Money{Amount: b.Of(in.Plan.Currency), Currency: in.Plan.Currency},
		Price: billing.Money{Amount: in.Plan.Price, Currency: in.Plan.Currency}, ProductName: in.Plan.ProductName,
		SubscriptionID: in.SubscriptionID, PaidUntil: in.PaidUntil, DeleteAt: in.DeleteAt, Days: req.Days,
		SuspendReason: in.SuspendReason, TimeZone: in.Plan.TimeZone, UpdatesUntil: req.UpdatesUntil,
		Parameters: req.Parameters}
}
