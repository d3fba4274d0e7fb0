package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/workflows"
)

// TestLifecycleEndToEnd runs "billing dev" with mail going to a real SMTP
// server and follows a product billed every 20 seconds through its whole
// life: order, incoming, renewal, low balance, non-sufficient funds,
// suspension, deletion notices and deletion. The mails and the ledger must
// be exact.
func TestLifecycleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole lifecycle in real time (about a minute)")
	}
	t.Parallel()
	smtpd, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = smtpd.Close() })

	bin := buildBinary(t)
	env, apiURL, temporalAddr := devEnv(t)
	env = append(env, "SMTP_ADDR="+smtpd.Addr, "SMTP_TLS=none", "MAIL_FROM=billing@example.com")
	stop, out := startDev(t, bin, env, apiURL)
	defer stop()
	m := regexp.MustCompile(`login admin, password (\S+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "%s", out.String())
	admin := signIn(t, apiURL+"/api/v1/auth/staff/login", "admin", m[1])

	var reg struct{ Customer struct{ ID int64 } }
	call(t, admin, "POST", apiURL+"/api/v1/customers", `{"account_type": "individual", "name": "Lifecycle", "country": "DE",
		"user": {"login": "life", "email": "life@example.com", "first_name": "Liv"}}`, http.StatusCreated, &reg)
	cid := reg.Customer.ID
	var product struct{ ID int64 }
	call(t, admin, "POST", apiURL+"/api/v1/products", `{"name": "Demo VPS", "price": 100, "currency": "EUR",
		"period_unit": "second", "period_count": 20, "incoming_days": 5, "grace_days": 6,
		"payment_states": {
			"incoming": {"email": true, "subject": "Incoming [PAYMENT_AMOUNT] for [PAYMENT_NAME]", "body": "Dear [USER_NAME], [PAYMENT_AMOUNT] on [DATE_OF_PAYMENT]; balance [ACCOUNT_STATE]."},
			"approved": {"email": true, "subject": "Approved [PAYMENT_AMOUNT]", "body": "Thank you, [LOGIN]."},
			"non_sufficient_funds": {"email": true, "subject": "NSF: add funds", "body": "Balance [ACCOUNT_STATE] < [PAYMENT_AMOUNT]."},
			"declined": {"email": true, "subject": "Declined", "body": "Declined."}}}`, http.StatusCreated, &product)
	var pay struct{ ID int64 }
	call(t, admin, "POST", apiURL+"/api/v1/payments", fmt.Sprintf(`{"customer_id": %d, "method": "electronic", "amount": 200, "currency": "EUR"}`, cid), http.StatusCreated, &pay)
	call(t, admin, "POST", apiURL+fmt.Sprintf("/api/v1/payments/%d/paid", pay.ID), "", http.StatusOK, nil)

	order := fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, cid, product.ID)
	var sub, again struct{ ID int64 }
	callWith(t, admin, "POST", apiURL+"/api/v1/subscriptions", order, map[string]string{"Idempotency-Key": "order-1"}, http.StatusCreated, &sub)
	callWith(t, admin, "POST", apiURL+"/api/v1/subscriptions", order, map[string]string{"Idempotency-Key": "order-1"}, http.StatusOK, &again)
	require.Equal(t, sub.ID, again.ID, "the same Idempotency-Key returns the same subscription")

	var view struct {
		Status   string
		Schedule *struct {
			Status string
			Next   []struct{ Milestone string }
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	sawSuspended, sawDeletion := false, false
	for view.Status != "deleted" {
		require.True(t, time.Now().Before(deadline), "the subscription was not deleted within 3 minutes; last seen %+v", view)
		time.Sleep(500 * time.Millisecond)
		call(t, admin, "GET", apiURL+fmt.Sprintf("/api/v1/subscriptions/%d", sub.ID), "", http.StatusOK, &view)
		if view.Status == "suspended" && view.Schedule != nil {
			sawSuspended = true
			next := view.Schedule.Next // empty while the deletion itself runs
			sawDeletion = sawDeletion || len(next) > 0 && next[len(next)-1].Milestone == "deleted"
		}
	}
	require.True(t, sawSuspended)
	require.True(t, sawDeletion, "while suspended, staff can see when it will be deleted")
	// The row says deleted as soon as the workflow does; the last notice follows.
	require.Eventually(t, func() bool { return smtpd.Count("was deleted") == 1 }, 30*time.Second, 100*time.Millisecond)

	var bal struct{ Balances []struct{ Amount int64 } }
	call(t, admin, "GET", apiURL+fmt.Sprintf("/api/v1/customers/%d/balance", cid), "", http.StatusOK, &bal)
	require.Equal(t, int64(0), bal.Balances[0].Amount, "200 paid, 2 periods of 100 charged, nothing more")
	var ledger struct {
		Total int
		Items []struct{ Kind, Reference string }
	}
	call(t, admin, "GET", apiURL+fmt.Sprintf("/api/v1/customers/%d/ledger", cid), "", http.StatusOK, &ledger)
	require.Equal(t, 3, ledger.Total, "one credit, two charges: %+v", ledger.Items)

	for subject, want := range map[string]int{
		"is active": 1, "Incoming 1.00 EUR for Demo VPS": 2, "Approved 1.00 EUR": 1, "was renewed": 1,
		"Insufficient funds": 6, "NSF: add funds": 1, "is suspended": 1, "will be deleted soon": 3, "was deleted": 1,
	} {
		require.Equal(t, want, smtpd.Count(subject), "mails with %q; all: %v", subject, subjects(smtpd))
	}
	for _, msg := range smtpd.Messages() {
		require.Equal(t, "life@example.com", msg.To)
	}
	// A mail is recorded sent just after the SMTP server took it: the log
	// catches up within moments of the last one.
	var notices struct{ Items []struct{ Status string } }
	require.Eventually(t, func() bool {
		call(t, admin, "GET", apiURL+fmt.Sprintf("/api/v1/subscriptions/%d/notices", sub.ID), "", http.StatusOK, &notices)
		for _, n := range notices.Items {
			if n.Status != "sent" {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "every notice recorded sent: %+v", notices.Items)
	// The registration and payment notices, sent by the redelivery schedule
	// within a minute, are the customer's.
	serviceMails := 0
	for _, msg := range smtpd.Messages() {
		if !strings.HasPrefix(msg.Subject, "Welcome to your account") && !strings.HasPrefix(msg.Subject, "Payment of ") &&
			!strings.HasPrefix(msg.Subject, "Your payment goes to your orders") {
			serviceMails++
		}
	}
	require.Len(t, notices.Items, serviceMails, "every mail is recorded")
	for _, n := range notices.Items {
		require.Equal(t, "sent", n.Status)
	}

	// Ops filter subscriptions by customer and status in Temporal, and by
	// version: the deleted run came after the renewal, took its cycle-cost
	// version from its input without a marker, and still carries the
	// version the first run upserted.
	tc, err := client.Dial(client.Options{HostPort: temporalAddr})
	require.NoError(t, err)
	defer tc.Close()
	require.Eventually(t, func() bool {
		res, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("BillingCustomerID = %d AND BillingStatus = 'deleted' AND TemporalChangeVersion = 'cycle-cost-%d'",
				cid, workflows.LatestCycleCost)})
		return err == nil && len(res.Executions) >= 1
	}, 30*time.Second, 250*time.Millisecond, "the workflow's search attributes say deleted, at the latest cycle-cost")
	last := tc.GetWorkflowHistory(context.Background(), billing.SubscriptionWorkflowID(sub.ID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := last.Next()
	require.NoError(t, err)
	require.NotEmpty(t, first.GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId(), "the deleted run was continued from the renewal's")
	for last.HasNext() {
		ev, err := last.Next()
		require.NoError(t, err)
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			require.NotEqual(t, "Version", m.GetMarkerName(), "a continued run records no version marker")
		}
	}
}

func subjects(s *smtptest.Server) []string {
	var out []string
	for _, m := range s.Messages() {
		out = append(out, m.Subject)
	}
	return out
}

// buildBinary builds the billing binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billing")
	build := execCommand("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}
