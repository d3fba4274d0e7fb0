package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
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
	// balance in the plan's currency is below it.
	OnlyIfBalanceBelow int64
	// Days is the [DAYS] variable: days before the date the notice is about.
	Days int
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
}

// SendNoticesResult counts what happened.
type SendNoticesResult struct {
	Sent, AlreadySent, Skipped int
}

// SendNotices sends each notice by email to every user of the customer and
// by SMS to users with a phone, once per (subscription, period, notice,
// channel, recipient): a retried activity finds the earlier sends and skips
// them. Failed sends make the activity fail, so only they are retried.
func (a *Activities) SendNotices(ctx context.Context, in SendNoticesInput) (SendNoticesResult, error) {
	var res SendNoticesResult
	users, err := a.Store.Users(ctx, in.CustomerID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	balance, err := a.Store.Balance(ctx, in.CustomerID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	product, err := a.Store.Product(ctx, in.Plan.ProductID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	overrides, err := a.Store.NoticeTemplateOverrides(ctx)
	if err != nil {
		return res, err
	}
	var failures []error
	for _, req := range in.Notices {
		if req.OnlyIfBalanceBelow > 0 && balance.Of(in.Plan.Currency) >= req.OnlyIfBalanceBelow {
			res.Skipped++
			continue
		}
		t, ok := template(req, product, overrides)
		if !ok {
			res.Skipped++
			continue
		}
		for _, u := range users {
			vars := a.variables(in, req, u, balance)
			sends := []outgoing{}
			if t.email {
				sends = append(sends, outgoing{channel: billing.ChannelEmail, to: u.Email,
					subject: notices.Render(t.subject, vars), body: notices.Render(t.body, vars)})
			}
			if t.sms && u.Phone != "" {
				sends = append(sends, outgoing{channel: billing.ChannelSMS, to: u.Phone, body: notices.Render(t.smsBody, vars)})
			}
			for _, o := range sends {
				sent, err := a.sendOnce(ctx, in, req, t, o)
				switch {
				case err != nil:
					failures = append(failures, err)
				case sent:
					res.Sent++
				default:
					res.AlreadySent++
				}
			}
		}
	}
	return res, errors.Join(failures...)
}

type outgoing struct {
	channel, to, subject, body string
}

// noticeTemplate is what to send for one notice, whichever its source.
type noticeTemplate struct {
	name                   string
	email, sms             bool
	subject, body, smsBody string
	senderName, replyTo    string
}

// template picks the product's payment-state settings, or the service
// notice's text (staff's replacement or the built-in one).
func template(req NoticeRequest, p billing.Product, overrides map[string]billing.NoticeTemplate) (noticeTemplate, bool) {
	if req.ProductState {
		s := p.PaymentStates[req.Milestone]
		return noticeTemplate{name: "product:" + req.Milestone, email: s.Email, sms: s.SMS, subject: s.Subject,
			body: s.Body, smsBody: s.SMSBody, senderName: s.SenderName, replyTo: s.ReplyTo}, s.Email || s.SMS
	}
	t, ok := overrides[req.Milestone]
	name := "custom:" + req.Milestone
	if !ok {
		t, ok = notices.Defaults[req.Milestone]
		name = "default:" + req.Milestone
	}
	return noticeTemplate{name: name, email: true, sms: t.SMSBody != "", subject: t.Subject, body: t.Body, smsBody: t.SMSBody}, ok
}

// sendOnce claims the notice's deduplication key, sends, and records the outcome.
func (a *Activities) sendOnce(ctx context.Context, in SendNoticesInput, req NoticeRequest, t noticeTemplate, o outgoing) (bool, error) {
	key := fmt.Sprintf("subscription:%d:period:%d:%s:%s:%s", in.SubscriptionID, in.Period, req.Key, o.channel, o.to)
	sub := in.SubscriptionID
	n, claimed, err := a.Store.ClaimNotice(ctx, key, billing.Notice{SubscriptionID: &sub, CustomerID: in.CustomerID,
		Period: in.Period, Milestone: req.Milestone, Channel: o.channel, Recipient: o.to, Template: t.name, Subject: o.subject})
	if err != nil || !claimed {
		return false, err
	}
	var id string
	if o.channel == billing.ChannelEmail {
		from := a.MailFrom
		id, err = a.Mail.Send(ctx, mail.Message{ID: key, FromName: t.senderName, From: from, ReplyTo: t.replyTo,
			To: o.to, Subject: o.subject, Body: o.body})
	} else {
		id, err = a.SMS.Send(ctx, o.to, o.body)
	}
	if err != nil {
		if ferr := a.Store.FinishNotice(ctx, n.ID, billing.NoticeFailed, "", err.Error()); ferr != nil {
			return false, ferr
		}
		return false, fmt.Errorf("%s to %s: %w", o.channel, o.to, err)
	}
	return true, a.Store.FinishNotice(ctx, n.ID, billing.NoticeSent, id, "")
}

// variables are the values of the template variables for one recipient.
func (a *Activities) variables(in SendNoticesInput, req NoticeRequest, u billing.User, b billing.Balance) map[string]string {
	loc, err := time.LoadLocation(in.Plan.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	reason := in.SuspendReason
	if reason == "" {
		reason = "-"
	}
	return map[string]string{
		"[LOGIN]":           u.Login,
		"[USER_NAME]":       u.FirstName,
		"[USER_LASTNAME]":   u.LastName,
		"[ACCOUNT_STATE]":   billing.Money{Amount: b.Of(in.Plan.Currency), Currency: in.Plan.Currency}.String(),
		"[DATE_OF_PAYMENT]": date(in.PaidUntil),
		"[PAYMENT_NAME]":    in.Plan.ProductName,
		"[PAYMENT_AMOUNT]":  billing.Money{Amount: in.Plan.Price, Currency: in.Plan.Currency}.String(),
		"[SERVICE_ID]":      strconv.FormatInt(in.SubscriptionID, 10),
		"[PAID_UNTIL]":      date(in.PaidUntil),
		"[DELETE_DATE]":     date(in.DeleteAt),
		"[DAYS]":            strconv.Itoa(req.Days),
		"[SUSPEND_REASON]":  reason,
	}
}
