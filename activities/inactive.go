package activities

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
)

// FindInactiveInput is one run of the inactive-clients schedule.
type FindInactiveInput struct {
	// Limit is how many customers one run looks at (500 when 0).
	Limit int
}

// FindInactiveResult is what a run is to do: warn some customers, delete
// others. Days is the setting delete_inactive_clients_days (0: off, and
// nothing to do).
type FindInactiveResult struct {
	Days   int
	Warn   []billing.InactiveCustomer
	Delete []billing.InactiveCustomer
}

// day is a day of inactivity: 24 hours, whatever the time zone.
const day = 24 * time.Hour

// FindInactiveCustomers reads delete_inactive_clients_days (stored settings
// only: it has no default but 0) and lists the customers deletable for
// inactivity (billing.InactiveCustomer) that are due a warning (inactive
// DeletionWarningDays fewer days than the setting, not warned since their
// last activity) or due deletion (inactive the setting's days and warned at
// least DeletionWarningDays ago).
func (a *Activities) FindInactiveCustomers(ctx context.Context, in FindInactiveInput) (FindInactiveResult, error) {
	var res FindInactiveResult
	settings, stored, err := a.Store.StoredSettings(ctx)
	if err != nil || !stored || settings.DeleteInactiveClientsDays == 0 {
		return res, nonRetryableIfPermanent(err)
	}
	res.Days = settings.DeleteInactiveClientsDays
	now := time.Now()
	warnAfter := time.Duration(max(res.Days-billing.DeletionWarningDays, 0)) * day
	found, err := a.Store.InactiveCustomers(ctx, now.Add(-warnAfter), cmp.Or(in.Limit, 500))
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	since, warnedBy := deletionBounds(now, res.Days)
	for _, c := range found {
		switch {
		case c.WarnedAt == nil:
			res.Warn = append(res.Warn, c)
		case c.LastActivity.Before(since) && !c.WarnedAt.After(warnedBy):
			res.Delete = append(res.Delete, c)
		}
	}
	return res, nil
}

// deletionBounds: a customer is deleted when its last activity is before
// since and it was warned no later than warnedBy.
func deletionBounds(now time.Time, days int) (since, warnedBy time.Time) {
	return now.Add(-time.Duration(days) * day), now.Add(-billing.DeletionWarningDays * day)
}

// WarnInactiveInput warns one customer of its deletion for the inactivity
// since LastActivity.
type WarnInactiveInput struct {
	CustomerID   int64
	LastActivity time.Time
	Days         int
}

// WarnInactiveResult says whether the warning has reached the customer
// and, if so, when the customer will be deleted at the earliest.
type WarnInactiveResult struct {
	Warned   bool
	DeleteAt time.Time
	Sent     SendEventResult
}

// WarnInactiveCustomer sends account_deletion_warning to the main user,
// keyed by the stretch of inactivity, so a retried or repeated run sends it
// once; and once the mail server has taken it (now, or later through the
// redelivery: the next run looks again), records when. The deletion counts
// its days from that moment, so a warning that is late, or never delivered,
// never shortens them: an undelivered one keeps the customer.
func (a *Activities) WarnInactiveCustomer(ctx context.Context, in WarnInactiveInput) (WarnInactiveResult, error) {
	var res WarnInactiveResult
	key := in.LastActivity.UTC().Format(time.RFC3339Nano)
	res.DeleteAt = in.LastActivity.Add(time.Duration(in.Days) * day)
	if earliest := time.Now().Add(billing.DeletionWarningDays * day); earliest.After(res.DeleteAt) {
		res.DeleteAt = earliest
	}
	var err error
	res.Sent, err = a.SendEvent(ctx, SendEventInput{Event: notices.EventAccountDeletionWarning, CustomerID: in.CustomerID,
		Key: key, RetryFor: billing.DeletionWarningDays * day,
		Vars: map[string]string{"[DAYS]": strconv.Itoa(in.Days), "[DELETE_DATE]": res.DeleteAt.UTC().Format("2006-01-02")}})
	if err != nil {
		return res, err
	}
	sentAt, err := a.Store.DeletionWarningSent(ctx, in.CustomerID,
		fmt.Sprintf("event:%s:%s:%d:%s:", notices.EventAccountDeletionWarning, notices.ObjectCustomer, in.CustomerID, key))
	if err != nil || sentAt == nil {
		return res, nonRetryableIfPermanent(err)
	}
	at, err := a.Store.WarnDeletion(ctx, in.CustomerID, in.LastActivity, *sentAt)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	res.Warned = true
	if earliest := at.Add(billing.DeletionWarningDays * day); earliest.After(res.DeleteAt) {
		res.DeleteAt = earliest
	}
	return res, nil
}

// DeleteInactiveInput deletes one customer for inactivity.
type DeleteInactiveInput struct {
	CustomerID int64
}

// DeleteInactiveResult says whether this run deleted the customer.
type DeleteInactiveResult struct {
	Deleted bool
	Sent    SendEventResult
}

// DeleteInactiveCustomer deletes the customer if, under its lock and with
// the settings of now, it is still due deletion (a payment, an order or a
// sign-in since the run looked keeps it), then sends account_deleted to the
// main user with the same key as DELETE /customers/{id}: a retry after the
// deletion sends what a crash kept from being sent, and no one gets it twice.
func (a *Activities) DeleteInactiveCustomer(ctx context.Context, in DeleteInactiveInput) (DeleteInactiveResult, error) {
	var res DeleteInactiveResult
	settings, stored, err := a.Store.StoredSettings(ctx)
	if err != nil || !stored || settings.DeleteInactiveClientsDays == 0 {
		return res, nonRetryableIfPermanent(err)
	}
	since, warnedBy := deletionBounds(time.Now(), settings.DeleteInactiveClientsDays)
	c, deleted, err := a.Store.DeleteInactiveCustomer(ctx, in.CustomerID, since, warnedBy)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	res.Deleted = deleted
	if c.Status != billing.CustomerDeleted {
		return res, nil
	}
	res.Sent, err = a.SendEvent(ctx, SendEventInput{Event: notices.EventAccountDeleted, CustomerID: in.CustomerID,
		Vars: map[string]string{"[REASON]": notices.ReasonInactive}})
	return res, err
}
