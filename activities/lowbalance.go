package activities

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// QueueLowBalance returns the store's low-balance notifier
// (store.SetLowBalanceNotifier): it queues low_balance to every user of the
// customer in the transaction that made the balance's days fall, keyed by the
// currency and the customer's count of such falls in it, so that each fall
// is queued once. A failed send is retried until the balance runs out, for
// at least a day.
func QueueLowBalance(defaultLanguage string) store.LowBalanceNotifier {
	return func(ctx context.Context, tx *store.Store, l store.LowBalance) error {
		money := func(a int64) string { return billing.Money{Amount: a, Currency: l.Currency}.String() }
		_, err := QueueEvent(ctx, tx, SendEventInput{Event: notices.EventLowBalance, CustomerID: l.CustomerID,
			Key: fmt.Sprintf("%s:%d", l.Currency, l.Crossing), Vars: map[string]string{
				"[BALANCE]": money(l.Balance), "[DAYS_LEFT]": strconv.FormatInt(l.DaysLeft, 10),
				"[DAILY_COST]": money(l.DailyCost), "[CURRENCY]": l.Currency},
			RetryFor: 24 * time.Hour * time.Duration(max(1, min(l.DaysLeft, 3650)))}, defaultLanguage)
		return err
	}
}
