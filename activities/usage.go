package activities

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/zoneinfo"
)

// ChargeOverageInput closes a subscription's periods for usage and charges
// their overage: those that ended by Before, or, with All (the service
// ends), every open one.
type ChargeOverageInput struct {
	SubscriptionID int64
	CustomerID     int64
	Before         time.Time
	All            bool
}

// PeriodOverage is the overage charge of one period (EntryID 0: none was due).
type PeriodOverage struct {
	Period   int
	EntryID  int64
	Amount   int64
	Currency string
}

// ChargeOverageResult lists the periods closed, and counts those still
// open (begun, or renewed early, and not ended).
type ChargeOverageResult struct {
	Periods []PeriodOverage
	Open    int
}

// ChargeOverage closes the periods in's subscription is done with and
// charges each one's overage exactly once (store.ChargeOverage, keyed
// subscription:<id>:period:<n>:overage), queuing the overage_charged notice
// in the charge's transaction and then sending it at once: a worker lost
// between the two leaves it to the redelivery, and a retry finds the period
// closed. A period without overage is closed without a charge or a notice.
func (a *Activities) ChargeOverage(ctx context.Context, in ChargeOverageInput) (ChargeOverageResult, error) {
	defer heartbeat(ctx)()
	var res ChargeOverageResult
	periods, err := a.Store.UsagePeriodsToClose(ctx, in.SubscriptionID, in.Before, in.All)
	if err != nil {
		return res, err
	}
	for _, n := range periods {
		var notice SendEventInput
		var oc store.OverageCharge
		err := a.Store.Tx(ctx, func(tx *store.Store) error {
			var err error
			if oc, err = tx.ChargeOverage(ctx, in.SubscriptionID, in.CustomerID, n); err != nil || oc.Entry.ID == 0 {
				return err
			}
			if notice, err = overageNotice(ctx, tx, in.CustomerID, oc); err != nil {
				return err
			}
			if _, err = QueueEvent(ctx, tx, notice, a.DefaultLanguage); err != nil {
				return err
			}
			// The overage's invoice, if one was issued, is sent like a period's.
			return a.invoiceIssued(ctx, tx, billing.OverageChargeKey(in.SubscriptionID, n))
		})
		a.Metrics.Charge(oc.Written, err)
		if err != nil {
			return res, nonRetryableIfPermanent(err)
		}
		res.Periods = append(res.Periods, PeriodOverage{Period: n, EntryID: oc.Entry.ID, Amount: oc.Entry.Amount, Currency: oc.Usage.Currency})
		if notice.Event != "" {
			if _, err := a.SendEvent(ctx, notice); err != nil { // claims the queued messages
				return res, err
			}
		}
	}
	res.Open, err = a.Store.UsagePeriodsOpen(ctx, in.SubscriptionID)
	return res, err
}

// usageVars are the variables every usage notice of a period has.
func usageVars(cust billing.Customer, subscriptionID int64, productName string, from, until time.Time) map[string]string {
	loc := zoneinfo.Load(cust.TimeZone)
	return map[string]string{"[SERVICE_ID]": strconv.FormatInt(subscriptionID, 10), "[SERVICE_NAME]": productName,
		"[PERIOD]": from.In(loc).Format("2006-01-02 15:04 MST") + " to " + until.In(loc).Format("2006-01-02 15:04 MST")}
}

// overageNotice is the overage_charged notice of oc, written with st.
func overageNotice(ctx context.Context, st *store.Store, customerID int64, oc store.OverageCharge) (SendEventInput, error) {
	cust, err := st.Customer(ctx, customerID)
	if err != nil {
		return SendEventInput{}, err
	}
	bal, err := st.Balance(ctx, customerID)
	if err != nil {
		return SendEventInput{}, err
	}
	balance := billing.Money{Currency: oc.Usage.Currency}
	for _, m := range bal.Balances {
		if m.Currency == balance.Currency {
			balance = m
		}
	}
	money := func(a int64) string { return billing.Money{Amount: a, Currency: oc.Usage.Currency}.String() }
	var lines []string
	for _, r := range oc.Usage.Resources {
		if r.Overage > 0 {
			lines = append(lines, fmt.Sprintf("- %s: %d %s beyond %d %s, %d x %s = %s", r.Resource, r.Overage, r.Unit,
				r.Included, r.Unit, r.Overage, money(r.OveragePrice), money(r.OverageAmount)))
		}
	}
	u := oc.Usage
	vars := usageVars(cust, u.SubscriptionID, oc.ProductName, u.PeriodFrom, u.PeriodUntil)
	vars["[AMOUNT]"], vars["[OVERAGE]"], vars["[BALANCE]"] = money(oc.Entry.Amount), strings.Join(lines, "\n"), balance.String()
	return SendEventInput{Event: notices.EventOverageCharged, CustomerID: customerID, ObjectType: notices.ObjectSubscription,
		ObjectID: strconv.FormatInt(u.SubscriptionID, 10), Key: fmt.Sprintf("period:%d", u.Period), Vars: vars}, nil
}

// ThresholdNotice is the resource_threshold notice of a crossing of a
// subscription's period: queued by the usage ingest, once per period and
// resource.
func ThresholdNotice(cust billing.Customer, subscriptionID int64, c store.Crossing) SendEventInput {
	vars := usageVars(cust, subscriptionID, c.ProductName, c.PeriodFrom, c.PeriodUntil)
	vars["[RESOURCE]"], vars["[USED]"], vars["[INCLUDED]"] = c.Resource.Name, strconv.FormatInt(c.Used, 10), strconv.FormatInt(c.Resource.Included, 10)
	vars["[UNIT]"], vars["[PERCENT]"] = c.Resource.Unit, strconv.FormatInt(c.Percent, 10)
	return SendEventInput{Event: notices.EventResourceThreshold, CustomerID: cust.ID, ObjectType: notices.ObjectSubscription,
		ObjectID: strconv.FormatInt(subscriptionID, 10), Key: fmt.Sprintf("period:%d:%s", c.Period, c.Resource.Name), Vars: vars}
}
