package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
)

// pay records a payment for the customer and marks it paid; it returns the
// payment's ID.
func (b *bundle) pay(customerID, method string, amount int64, currency string) string {
	b.t.Helper()
	status, body := b.do("POST", "/api/v1/payments", fmt.Sprintf(`{"customer_id": %s, "method": %q, "amount": %d, "currency": %q}`,
		customerID, method, amount, currency))
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	id := jsonID(body)
	status, body = b.do("POST", "/api/v1/payments/"+id+"/paid", "")
	require.Equal(b.t, http.StatusOK, status, "%v", body)
	return id
}

// withSubject keeps the messages whose subject starts with prefix.
func withSubject(ms []smtptest.Message, prefix string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range ms {
		if strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// TestPaymentReceivedNotice: a payment marked paid sends payment_received to
// every user of the customer, with the amount, the method, the date and the
// balance after it; marking it paid again sends nothing more. Without orders
// waiting for a payment there is no funds_for_order.
func TestPaymentReceivedNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	id, mainEmail, otherEmail := b.customerWithTwoUsers("en")
	b.pay(id, billing.MethodElectronic, 1000, "EUR")
	payID := b.pay(id, billing.MethodWireTransfer, 2550, "EUR")
	status, body := b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	today := time.Now().UTC().Format("2006-01-02")

	msgs := withSubject(box.deliver(id), "Payment of 25.50 EUR received")
	require.ElementsMatch(t, []string{mainEmail, otherEmail}, recipients(msgs), "every user, once")
	for _, m := range msgs {
		require.Contains(t, text(t, m), "we received your payment of 25.50 EUR by wire transfer on "+today)
		require.Contains(t, text(t, m), "Your balance is now 35.50 EUR.")
	}
	require.Len(t, withSubject(box.deliver(id), "Payment of 10.00 EUR received"), 2, "the electronic payment too")
	require.Empty(t, withSubject(box.deliver(id), "Your payment goes to your orders"), "no orders wait")
	require.Len(t, box.deliver(id), 4)

	status, body = b.do("GET", "/api/v1/notifications?event=payment_received&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 4.0, body["total"])
	n := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "payment", n["object_type"])
	require.Equal(t, payID, n["object_id"])
}

// TestFundsForOrderNotice: a payment marked paid while orders wait for their
// first charge sends funds_for_order to every user, listing the orders
// waiting then with their prices, their total and the balance; the
// subscriptions then charge what the balance covers. Once per payment; a
// payment when no order waits sends none.
func TestFundsForOrderNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	id, mainEmail, otherEmail := b.customerWithTwoUsers("en")
	name := "VPS " + uniq()
	status, body := b.do("POST", "/api/v1/products", `{"name": "`+name+`", "price": 1000, "currency": "EUR", "period_unit": "month"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	product := jsonID(body)
	var orders []string
	for range 2 {
		status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+id+`, "product_id": `+product+`}`)
		require.Equal(t, http.StatusCreated, status, "%v", body)
		orders = append(orders, jsonID(body))
	}
	active := func(n float64) {
		t.Helper()
		require.Eventually(t, func() bool {
			_, body := b.do("GET", "/api/v1/subscriptions?status=active&customer_id="+id, "")
			return body["total"] == n
		}, time.Minute, 200*time.Millisecond, "%v orders active", n)
	}

	payID := b.pay(id, billing.MethodWireTransfer, 1500, "EUR")
	status, _ = b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
	require.Equal(t, http.StatusOK, status)
	funds := withSubject(box.deliver(id), "Your payment goes to your orders")
	require.ElementsMatch(t, []string{mainEmail, otherEmail}, recipients(funds), "every user, once")
	body1 := text(t, funds[0])
	require.Contains(t, body1, "your payment of 15.00 EUR has been added to the balance of Acme Example, which is now 15.00 EUR.")
	require.Contains(t, body1, "- "+name+" (#"+orders[0]+"): 10.00 EUR\r\n- "+name+" (#"+orders[1]+"): 10.00 EUR")
	require.Contains(t, body1, "Together they cost 20.00 EUR.")
	active(1) // the balance covers one order: it is charged

	b.pay(id, billing.MethodElectronic, 500, "EUR")
	funds = withSubject(box.deliver(id), "Your payment goes to your orders")
	require.Len(t, funds, 4)
	var second string
	for _, m := range funds {
		if strings.Contains(text(t, m), "payment of 5.00 EUR") {
			second = text(t, m)
		}
	}
	require.Contains(t, second, "which is now 10.00 EUR.")
	require.Contains(t, second, "Together they cost 10.00 EUR.", "only the order still waiting")
	require.Equal(t, 1, strings.Count(second, "(#"), "%s", second)
	active(2)

	b.pay(id, billing.MethodElectronic, 100, "EUR")
	all := box.deliver(id)
	require.Len(t, withSubject(all, "Payment of 1.00 EUR received"), 2)
	require.Len(t, withSubject(all, "Your payment goes to your orders"), 4, "no order waits: no funds_for_order")
}

// TestPaymentNoticesRollBack: a payment whose notice can't be queued is not
// marked paid (500, no credit), and one that can't be marked paid (the
// balance cap, 422) sends no notice.
func TestPaymentNoticesRollBack(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t)) // its own trigger
	box := newMailbox(t, b.store)
	_, err := b.store.Pool().Exec(t.Context(), `
		CREATE FUNCTION refuse_payment_notice() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'notice refused by the test';
		END $$;
		CREATE TRIGGER refuse_payment_notice BEFORE INSERT ON notices FOR EACH ROW
			WHEN (NEW.event = 'payment_received') EXECUTE FUNCTION refuse_payment_notice();`)
	require.NoError(t, err)
	id, _ := b.newCustomer()
	status, body := b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": 700, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	payID := jsonID(body)
	status, body = b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
	require.Equal(t, http.StatusInternalServerError, status, "%v", body)
	_, body = b.do("GET", "/api/v1/payments/"+payID, "")
	require.Equal(t, "new", body["status"], "rolled back with its notice")
	_, body = b.do("GET", "/api/v1/customers/"+id+"/balance", "")
	require.Empty(t, body["balances"], "no credit")

	_, err = b.store.Pool().Exec(t.Context(), `DROP TRIGGER refuse_payment_notice ON notices`)
	require.NoError(t, err)
	status, body = b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Len(t, withSubject(box.deliver(id), "Payment of 7.00 EUR received"), 1)

	b.seedLedger(id, billing.Credit, 1, billing.MaxBalance-700, "EUR")
	status, body = b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": 1, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	status, _ = b.do("POST", "/api/v1/payments/"+jsonID(body)+"/paid", "")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Len(t, box.deliver(id), 1, "no notice of a payment not marked paid")
}
