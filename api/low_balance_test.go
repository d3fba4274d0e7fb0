package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// TestLowBalanceNotice, end to end: a service of a product charged every day
// is ordered through the API and charged by its workflow on a real Temporal
// server ("renew now" charges the next day); payments and staff adjustments
// go through the API. Each fall of the days the balance lasts to a lower
// value of low_money_notice_period sends low_balance once to every user of
// the customer, through the redelivery to an SMTP server: 11 days nothing,
// 10 one, 9 nothing more, a debit to 3 days one (for 3), a payment to 13
// nothing, a debit to 9 days one again.
func TestLowBalanceNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.SetLowBalanceNotifier(activities.QueueLowBalance("en"))
	box := newMailbox(t, b.store)
	id, mainEmail, otherEmail := b.customerWithTwoUsers("en")
	status, body := b.do("POST", "/api/v1/products", `{"name": "Daily VPS", "price": 100, "currency": "EUR", "period_unit": "day"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	pid := jsonID(body)
	b.pay(id, billing.MethodWireTransfer, 1200, "EUR")

	balance := func(want int64) {
		t.Helper()
		require.Eventually(t, func() bool {
			_, bal := b.do("GET", "/api/v1/customers/"+id+"/balance", "")
			items, _ := bal["balances"].([]any)
			return len(items) == 1 && items[0].(map[string]any)["amount"] == float64(want)
		}, 30*time.Second, 25*time.Millisecond, "balance %d", want)
	}
	lowMails := func(want int, subject string) {
		t.Helper()
		msgs := withSubject(box.deliver(id), "Low balance")
		require.Len(t, msgs, want)
		if subject != "" {
			last := msgs[want-2:]
			require.ElementsMatch(t, []string{mainEmail, otherEmail}, recipients(last), "every user, once")
			for _, m := range last {
				require.Equal(t, subject, m.Subject)
			}
		}
	}
	adjust := func(kind string, amount int) {
		t.Helper()
		status, body := b.do("POST", "/api/v1/customers/"+id+"/ledger", fmt.Sprintf(
			`{"kind": %q, "amount": %d, "currency": "EUR", "reference": "test", "idempotency_key": "k%d%s"}`, kind, amount, amount, uniq()))
		require.Equal(t, http.StatusCreated, status, "%v", body)
	}

	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+id+`, "product_id": `+pid+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	balance(1100)
	lowMails(0, "") // 11 days

	renew := func(want int64) {
		t.Helper()
		status, body := b.do("POST", "/api/v1/subscriptions/"+sid+"/renew", "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		balance(want)
	}
	renew(1000)
	lowMails(2, "Low balance: 10.00 EUR left")
	msg := withSubject(box.deliver(id), "Low balance")[0]
	require.Contains(t, text(t, msg), "Your services charged every day cost 1.00 EUR a day, so your balance pays for 10 more days.")
	renew(900)
	lowMails(2, "") // 9 days: the same level

	adjust(billing.Debit, 600)
	balance(300)
	lowMails(4, "Low balance: 3.00 EUR left")
	b.pay(id, billing.MethodElectronic, 1000, "EUR")
	balance(1300)
	lowMails(4, "") // 13 days
	adjust(billing.Debit, 400)
	balance(900)
	lowMails(6, "Low balance: 9.00 EUR left") // below 10 again: told again

	status, body = b.do("GET", "/api/v1/notifications?event=low_balance&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 6.0, body["total"])
	n := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "customer", n["object_type"])
	require.Equal(t, "sent", n["status"])
}
