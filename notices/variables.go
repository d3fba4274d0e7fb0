package notices

import (
	"strconv"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/zoneinfo"
)

// Variables a subject or body may use. The first seven are seed 002's.
var Variables = []string{"[LOGIN]", "[USER_NAME]", "[USER_LASTNAME]", "[ACCOUNT_STATE]", "[DATE_OF_PAYMENT]",
	"[PAYMENT_NAME]", "[PAYMENT_AMOUNT]", "[SERVICE_ID]", "[PAID_UNTIL]", "[DELETE_DATE]", "[DAYS]", "[SUSPEND_REASON]"}

// Render replaces the variables in text with their values; unknown ones stay.
func Render(text string, vars map[string]string) string {
	pairs := make([]string, 0, 2*len(vars))
	for _, name := range Variables {
		if v, ok := vars[name]; ok {
			pairs = append(pairs, name, v)
		}
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// Facts are what the variables of a notice to one recipient are made of.
type Facts struct {
	User           billing.User
	Balance        billing.Money // the customer's, in the plan's currency
	Price          billing.Money // the period's
	ProductName    string
	SubscriptionID int64
	PaidUntil      time.Time
	DeleteAt       time.Time
	Days           int // days before the date the notice is about
	SuspendReason  string
	TimeZone       string // the customer's, that dates are shown in
}

// Values returns the value of every variable for f.
func (f Facts) Values() map[string]string {
	loc := zoneinfo.Load(f.TimeZone)
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	reason := f.SuspendReason
	if reason == "" {
		reason = "-"
	}
	return map[string]string{
		"[LOGIN]":           f.User.Login,
		"[USER_NAME]":       f.User.FirstName,
		"[USER_LASTNAME]":   f.User.LastName,
		"[ACCOUNT_STATE]":   f.Balance.String(),
		"[DATE_OF_PAYMENT]": date(f.PaidUntil),
		"[PAYMENT_NAME]":    f.ProductName,
		"[PAYMENT_AMOUNT]":  f.Price.String(),
		"[SERVICE_ID]":      strconv.FormatInt(f.SubscriptionID, 10),
		"[PAID_UNTIL]":      date(f.PaidUntil),
		"[DELETE_DATE]":     date(f.DeleteAt),
		"[DAYS]":            strconv.Itoa(f.Days),
		"[SUSPEND_REASON]":  reason,
	}
}
