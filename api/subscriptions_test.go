package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// product creates a monthly product and returns its ID.
func (b *bundle) product(price int) string {
	b.t.Helper()
	status, body := b.do("POST", "/api/v1/products", fmt.Sprintf(`{"name": "VPS", "price": %d, "currency": "EUR", "period_unit": "month"}`, price))
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	return jsonID(body)
}

// waitFor polls the subscription until its workflow reports status.
func (b *bundle) waitFor(id, status string) map[string]any {
	b.t.Helper()
	var got map[string]any
	require.Eventually(b.t, func() bool {
		_, got = b.do("GET", "/api/v1/subscriptions/"+id, "")
		sched, _ := got["schedule"].(map[string]any)
		return sched != nil && sched["status"] == status
	}, 30*time.Second, 25*time.Millisecond, "subscription %s never became %s", id, status)
	return got
}

// TestOrderWaitsForPaymentThroughTheAPI: an order without funds waits;
// marking a payment paid signals it, and it activates.
func TestOrderWaitsForPaymentThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	pid := b.product(1500)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	got := b.waitFor(sid, "unpaid")
	require.Equal(t, true, got["schedule"].(map[string]any)["waiting_for_payment"])

	status, body = b.do("POST", "/api/v1/payments", `{"customer_id": `+cid+`, "method": "electronic", "amount": 2000, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = b.do("POST", "/api/v1/payments/"+jsonID(body)+"/paid", "")
	require.Equal(t, http.StatusOK, status)
	got = b.waitFor(sid, "active")
	require.NotNil(t, got["schedule"].(map[string]any)["paid_until"])
	require.Eventually(t, func() bool {
		_, bal := b.do("GET", "/api/v1/customers/"+cid+"/balance", "")
		return bal["balances"].([]any)[0].(map[string]any)["amount"] == 500.0
	}, 10*time.Second, 25*time.Millisecond, "20.00 paid, 15.00 charged")

	// Renew now twice with the same period: one charge.
	status, body = b.do("POST", "/api/v1/subscriptions/"+sid+"/renew", "")
	require.Equal(t, http.StatusConflict, status, "5.00 left does not pay 15.00: %v", body)
	code, msg, _ := errorOf(t, body)
	require.Equal(t, "insufficient_funds", code)
	require.Contains(t, msg, "less than 15.00 EUR")
}

func TestSubscriptionActionsValidate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	free := b.product(0)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+free+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	s := "/api/v1/subscriptions/" + sid
	for _, tc := range []struct {
		path, body string
		status     int
		field      string
	}{
		{s + "/suspend", `{}`, 422, "reason"},
		{s + "/suspend", `{"reason": 5}`, 422, "reason"},
		{s + "/extend", `{"days": 0}`, 422, "days"},
		{s + "/extend", `{"days": 99999}`, 422, "days"},
		{s + "/auto-renew", `{}`, 422, "enabled"},
		{s + "/change-product", `{"product_id": 999999999}`, 404, ""},
		{s + "/change-product", `{}`, 422, "product_id"},
		{s + "/resume", ``, 409, ""},
		{s + "/cancel", `{"at_period_end": "yes"}`, 422, "at_period_end"},
		{"/api/v1/subscriptions/999999999/suspend", `{"reason": "x"}`, 404, ""},
		{"/api/v1/subscriptions", `{"customer_id": ` + cid + `}`, 422, "product_id"},
		{"/api/v1/subscriptions", `{"customer_id": ` + cid + `, "product_id": 999999999}`, 404, ""},
	} {
		status, body := b.do("POST", tc.path, tc.body)
		require.Equal(t, tc.status, status, "%s %s: %v", tc.path, tc.body, body)
		_, _, fields := errorOf(t, body)
		if tc.field != "" {
			require.Contains(t, fields, tc.field, "%s %s", tc.path, tc.body)
		}
	}

	status, body = b.do("POST", s+"/suspend", `{"reason": "abuse report"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "suspended", body["status"])
	require.Equal(t, "abuse report", body["suspend_reason"])
	status, body = b.do("POST", s+"/suspend", `{"reason": "again"}`)
	require.Equal(t, http.StatusConflict, status)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "only an active service can be suspended")
	status, body = b.do("POST", s+"/resume", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "active", body["status"])
	status, body = b.do("POST", s+"/cancel", `{}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "cancelled", body["status"])
	status, body = b.do("POST", s+"/extend", `{"days": 3}`)
	require.Equal(t, http.StatusConflict, status, "%v", body)

	status, audit := b.do("GET", "/api/v1/audit?object_type=subscription&object_id="+sid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 4.0, audit["total"], "order, suspend, resume, cancel; rejected actions leave no trace: %v", audit)
}

func TestOrderIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	p1, p2 := b.product(0), b.product(0)
	order := func(product, key string) (int, map[string]any) {
		req := fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cid, product)
		return b.doHeaders("POST", "/api/v1/subscriptions", req, map[string]string{"Idempotency-Key": key})
	}
	status, first := order(p1, "k-1")
	require.Equal(t, http.StatusCreated, status, "%v", first)
	status, again := order(p1, "k-1")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, first["id"], again["id"])
	status, body := order(p2, "k-1")
	require.Equal(t, http.StatusConflict, status, "%v", body)
	status, list := b.do("GET", "/api/v1/subscriptions?customer_id="+cid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, list["total"])

	status, body = b.do("PUT", "/api/v1/products/"+p2, `{"name": "Old", "price": 0, "currency": "EUR", "period_unit": "month", "status": "archived"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, _ = order(p2, "k-2")
	require.Equal(t, http.StatusConflict, status, "an archived product can't be ordered")
}

// refusedCharge waits until the subscription's workflow records a charge
// refused with an application error of errType (an activity's failure, or
// a local activity's marker).
func (b *bundle) refusedCharge(sid, errType string) {
	b.t.Helper()
	require.Eventually(b.t, func() bool {
		iter := temporalClient.GetWorkflowHistory(b.t.Context(), billing.SubscriptionWorkflowID(mustID(b.t, sid)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return false
			}
			if f := ev.GetActivityTaskFailedEventAttributes().GetFailure(); f.GetApplicationFailureInfo().GetType() == errType {
				return true
			}
			// The charge is a local activity since cycle-cost 3: its
			// failure is in its marker.
			if f := ev.GetMarkerRecordedEventAttributes().GetFailure(); f.GetCause().GetApplicationFailureInfo().GetType() == errType ||
				f.GetApplicationFailureInfo().GetType() == errType {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "subscription %s: no charge refused as %s", sid, errType)
}

// TestOrderAtTheBalanceCapCanBeCancelled: an order whose charge would take
// the balance past the cap, or whose customer's ledger (written before the
// cap) sums beyond int64, is declined at once instead of retried forever:
// it waits for a payment, and it can be cancelled.
func TestOrderAtTheBalanceCapCanBeCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pid := b.product(1500)
	for name, tc := range map[string]struct {
		debits      int
		postPaid    bool
		balanceCode int
	}{
		"post-paid at the cap":  {debits: 1000, postPaid: true, balanceCode: http.StatusOK},
		"beyond int64, pre-cap": {debits: 9300, balanceCode: http.StatusConflict},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := *b
			b.t = t
			cid, _ := b.newCustomer()
			if tc.postPaid {
				_, err := b.store.Pool().Exec(t.Context(), `UPDATE customers SET post_paid = true WHERE id = $1`, cid)
				require.NoError(t, err)
			}
			b.seedLedger(cid, billing.Debit, tc.debits, billing.MaxAmount, "EUR")
			status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`}`)
			require.Equal(t, http.StatusCreated, status, "%v", body)
			sid := jsonID(body)
			b.refusedCharge(sid, activities.ErrChargeDeclined)
			got := b.waitFor(sid, "unpaid")
			require.Equal(t, true, got["schedule"].(map[string]any)["waiting_for_payment"])

			status, body = b.do("POST", "/api/v1/subscriptions/"+sid+"/cancel", "")
			require.Equal(t, http.StatusOK, status, "%v", body)
			require.Equal(t, "cancelled", body["schedule"].(map[string]any)["status"])
			status, body = b.do("GET", "/api/v1/customers/"+cid+"/ledger", "")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, float64(tc.debits), body["total"], "nothing charged")
			status, body = b.do("GET", "/api/v1/customers/"+cid+"/balance", "")
			require.Equal(t, tc.balanceCode, status, "a clear answer, never a 500: %v", body)
		})
	}
}

// TestScheduleShowsTheNextPrice: until the next period is announced, the
// schedule's price is what its product costs now, as the renewal will charge.
func TestScheduleShowsTheNextPrice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust, _ := b.newCustomer()
	product := b.product(0) // free: the order activates at once
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cust+`, "product_id": `+product+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	id := jsonID(body)
	got := b.waitFor(id, billing.SubscriptionActive)
	require.Equal(t, 0.0, got["schedule"].(map[string]any)["price"])
	status, body = b.do("PUT", "/api/v1/products/"+product, `{"name": "VPS", "price": 1500, "currency": "EUR", "period_unit": "month"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	_, got = b.do("GET", "/api/v1/subscriptions/"+id, "")
	sched := got["schedule"].(map[string]any)
	require.Equal(t, 1500.0, sched["price"], "the next period costs the new price")
	require.Equal(t, false, sched["price_announced"])
}

// TestUnpaidOrdersAreBounded: a customer has at most five orders waiting for
// a payment. Ten sent together without funds are all accepted, but only five
// may wait: the others are cancelled at once, saying why; a further order is
// a 409. A customer who can pay orders as many as they like at once.
func TestUnpaidOrdersAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	order := func(cust, product string, n int) []string {
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cust+`, "product_id": `+product+`}`)
				require.Equal(t, http.StatusCreated, status, "%v", body)
				ids[i] = jsonID(body)
			})
		}
		wg.Wait()
		return ids
	}
	max := workflows.DefaultPolicy.MaxUnpaidOrders
	cust, _ := b.newCustomer()
	ids := order(cust, b.product(500), 10) // no funds: each order's charge is refused
	count := map[string]int{}
	require.Eventually(t, func() bool {
		count = map[string]int{}
		for _, id := range ids {
			_, got := b.do("GET", "/api/v1/subscriptions/"+id, "")
			count[fmt.Sprint(got["status"], " ", got["suspend_reason"])]++
		}
		return count["unpaid "]+count["cancelled too many orders waiting for a payment"] == 10 && count["unpaid "] == max
	}, 30*time.Second, 100*time.Millisecond, "five wait, five are cancelled: %v", count)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cust+`, "product_id": `+b.product(500)+`}`)
	require.Equal(t, http.StatusConflict, status)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, fmt.Sprint(max, " unpaid orders"))

	funded, _ := b.newCustomer()
	for _, id := range order(funded, b.product(0), 10) { // free: each activates at once
		b.waitFor(id, billing.SubscriptionActive)
	}
}

// TestCancelAtTheBoundaryOnARealServer races a cancel against the end of a
// period on the real Temporal server, many times: services renewed every 2
// seconds are cancelled at, just before and just after the renewal. Each
// cancel is answered, the service ends cancelled in its schedule and row,
// and "cancelled" is sent once.
func TestCancelAtTheBoundaryOnARealServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("POST", "/api/v1/products", `{"name": "Boundary", "price": 1, "currency": "EUR", "period_unit": "second",
		"period_count": 2, "incoming_days": 1, "payment_states": {"incoming": {"email": true, "subject": "incoming", "body": "b"},
		"approved": {"email": true, "subject": "approved", "body": "b"}}}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	product := jsonID(body)
	offsets := []time.Duration{-40 * time.Millisecond, -10 * time.Millisecond, 0, 5 * time.Millisecond, 15 * time.Millisecond,
		30 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond}
	var wg sync.WaitGroup
	for i, offset := range offsets {
		wg.Go(func() {
			cust, _ := b.newCustomer()
			status, body := b.do("POST", "/api/v1/customers/"+cust+"/ledger", `{"kind": "credit", "amount": 1000, "currency": "EUR",
				"reference": "top-up", "idempotency_key": "boundary-`+cust+`"}`)
			require.Equal(t, http.StatusCreated, status, "%v", body)
			status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cust+`, "product_id": `+product+`}`)
			require.Equal(t, http.StatusCreated, status, "%v", body)
			id := jsonID(body)
			got := b.waitFor(id, billing.SubscriptionActive)
			paidUntil, err := time.Parse(time.RFC3339Nano, got["schedule"].(map[string]any)["paid_until"].(string))
			require.NoError(t, err)
			time.Sleep(time.Until(paidUntil.Add(offset)))
			status, body = b.do("POST", "/api/v1/subscriptions/"+id+"/cancel", `{}`)
			require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, status, "cancel %d at %v: %v", i, offset, body)
			require.Eventually(t, func() bool {
				_, got := b.do("GET", "/api/v1/subscriptions/"+id, "")
				return got["status"] == billing.SubscriptionCancelled
			}, 30*time.Second, 50*time.Millisecond, "cancel %d at %v: the row says cancelled", i, offset)
			require.Eventually(t, func() bool {
				// Through the API, so that the notification log is checked
				// against the OpenAPI document with real notices in it.
				status, notices := b.do("GET", "/api/v1/subscriptions/"+id+"/notices", "")
				require.Equal(t, http.StatusOK, status, "%v", notices)
				n := 0
				for _, item := range notices["items"].([]any) {
					nt := item.(map[string]any)
					if nt["milestone"] == "cancelled" && nt["channel"] == "email" && nt["status"] == "sent" {
						n++
					}
				}
				return n == 1
			}, 30*time.Second, 50*time.Millisecond, "cancel %d at %v: \"cancelled\" sent once", i, offset)
		})
	}
	wg.Wait()
}

// storedSchedule stores sched as the live schedule of subscription id, at a
// version no workflow reaches, so that none overwrites it during the test.
func (b *bundle) storedSchedule(id int64, sched *workflows.Schedule) {
	b.t.Helper()
	var raw []byte
	if sched != nil {
		raw = []byte(mustJSON(sched))
	}
	_, err := b.store.Pool().Exec(b.t.Context(), "UPDATE subscriptions SET schedule = $2::jsonb, schedule_version = $3 WHERE id = $1",
		id, raw, int64(1)<<62)
	require.NoError(b.t, err)
}

// TestGetSubscriptionReadsTheStoredSchedule: GET /subscriptions/{id} answers
// the schedule the workflow published, without asking the workflow: these
// orders have none (their rows are written by the store alone). Until the
// next period's price is announced, the price is the product's now: the
// product the next period is of.
func TestGetSubscriptionReadsTheStoredSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	pid := b.product(1500)
	customerID, productID := int64(0), int64(0)
	_, err := fmt.Sscan(cid, &customerID)
	require.NoError(t, err)
	_, err = fmt.Sscan(pid, &productID)
	require.NoError(t, err)
	var nextID int64
	_, err = fmt.Sscan(b.product(2500), &nextID)
	require.NoError(t, err)
	renewal := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		announced bool
		next      int64 // the product the next period is of, if another
		price     float64
	}{{true, 0, 999}, {false, 0, 1500}, {false, nextID, 2500}, {true, nextID, 999}} {
		o, err := b.store.CreateSubscription(t.Context(), billing.SubscriptionCreate{CustomerID: customerID, ProductID: productID}, "", 0)
		require.NoError(t, err)
		b.storedSchedule(o.Subscription.ID, &workflows.Schedule{Status: billing.SubscriptionActive, Period: 42, PaidUntil: &renewal,
			Price: 999, Currency: "EUR", PriceAnnounced: tc.announced, NextProductID: tc.next,
			Next: []workflows.ScheduledStep{{Milestone: "renewal", At: renewal}}})

		status, body := b.do("GET", fmt.Sprintf("/api/v1/subscriptions/%d", o.Subscription.ID), "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		sched, ok := body["schedule"].(map[string]any)
		require.True(t, ok, "no schedule: %v", body)
		require.Equal(t, 42.0, sched["period"])
		require.Equal(t, "active", sched["status"])
		require.Equal(t, tc.price, sched["price"], "announced %v, next product %d", tc.announced, tc.next)
		require.Equal(t, "renewal", sched["next"].([]any)[0].(map[string]any)["milestone"])
	}
}

// TestGetSubscriptionShowsWhatTheRemindersScheduleDid: the reminders the
// reminders schedule sends are listed with sent_by until their time, and
// dropped after it, though the workflow, which doesn't wake up for them,
// saved its schedule before; the price the schedule announced for the next
// period shows as announced, for the next period's product only.
func TestGetSubscriptionShowsWhatTheRemindersScheduleDid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	var customerID, productID, otherID int64
	_, err := fmt.Sscan(cid, &customerID)
	require.NoError(t, err)
	_, err = fmt.Sscan(b.product(1500), &productID)
	require.NoError(t, err)
	_, err = fmt.Sscan(b.product(2500), &otherID)
	require.NoError(t, err)
	renewal := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	past, coming := renewal.Add(-96*time.Hour), renewal.Add(-24*time.Hour)
	for _, tc := range []struct {
		announcedFor int64 // the product the announcement is of
		price        float64
		announced    bool
	}{{productID, 1200, true}, {otherID, 1500, false}} {
		o, err := b.store.CreateSubscription(t.Context(), billing.SubscriptionCreate{CustomerID: customerID, ProductID: productID}, "", 0)
		require.NoError(t, err)
		b.storedSchedule(o.Subscription.ID, &workflows.Schedule{Status: billing.SubscriptionActive, Period: 7, PaidUntil: &renewal,
			Price: 1500, Currency: "EUR", Next: []workflows.ScheduledStep{
				{Milestone: "insufficient_funds", At: past, Detail: "notice, 4 days before", SentBy: workflows.SentByReminders},
				{Milestone: "insufficient_funds", At: coming, Detail: "notice, 1 days before", SentBy: workflows.SentByReminders},
				{Milestone: "renewal", At: renewal}}})
		_, err = b.store.AnnouncePlan(t.Context(), o.Subscription.ID, 8, tc.announcedFor, billing.Money{Amount: 1200, Currency: "EUR"})
		require.NoError(t, err)

		status, body := b.do("GET", fmt.Sprintf("/api/v1/subscriptions/%d", o.Subscription.ID), "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		sched := body["schedule"].(map[string]any)
		next := sched["next"].([]any)
		require.Len(t, next, 2, "the reminder whose time passed is gone: %v", next)
		require.Equal(t, "reminders", next[0].(map[string]any)["sent_by"])
		require.Equal(t, coming.Format(time.RFC3339), next[0].(map[string]any)["at"])
		require.Nil(t, next[1].(map[string]any)["sent_by"], "the workflow's own step")
		require.Equal(t, tc.price, sched["price"])
		require.Equal(t, tc.announced, sched["price_announced"])
	}
}

// TestGetSubscriptionAsksTheWorkflowWithoutStoredSchedule: a workflow that
// has published no schedule (one started before they were published) is
// asked for it with a query.
func TestGetSubscriptionAsksTheWorkflowWithoutStoredSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+b.product(0)+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	var id int64
	_, err := fmt.Sscan(sid, &id)
	require.NoError(t, err)
	b.storedSchedule(id, nil)

	status, body = b.do("GET", "/api/v1/subscriptions/"+sid, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	sched, ok := body["schedule"].(map[string]any)
	require.True(t, ok, "no schedule: %v", body)
	require.Equal(t, "active", sched["status"])
	require.NotNil(t, sched["paid_until"])
}
