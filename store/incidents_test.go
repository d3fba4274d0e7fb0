package store_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// department creates a department with a unique name.
func (b bundle) department(t *testing.T, requiresIncidents bool) billing.Department {
	t.Helper()
	name := "Support " + rand.Text()[:10]
	d, err := b.store.CreateDepartment(b.ctx, billing.DepartmentInput{Name: &name, RequiresIncidents: &requiresIncidents})
	require.NoError(t, err)
	return d
}

// ticket inserts a ticket row of c in d, as the ticket store will before it
// calls UseIncident (tickets are built elsewhere).
func (b bundle) ticket(t *testing.T, c billing.Customer, d billing.Department) int64 {
	t.Helper()
	id, err := b.store.InsertTicket(b.ctx, c.ID, d.ID, rand.Text())
	require.NoError(t, err)
	return id
}

func (b bundle) incidents(t *testing.T, customerID int64) billing.Incidents {
	t.Helper()
	in, err := b.store.Incidents(b.ctx, customerID, 200, 0)
	require.NoError(t, err)
	return in
}

func (b bundle) grant(t *testing.T, customerID int64, n int) {
	t.Helper()
	_, _, err := b.store.GrantIncidents(b.ctx, customerID, 0, billing.IncidentGrantInput{Count: n}, "")
	require.NoError(t, err)
}

// TestUseIncidentConcurrentTicketsTakeTheLastOnce: with 3 incidents, 10
// tickets opened at once, each inserting its ticket row and calling
// UseIncident in its own transaction (as the ticket store does), succeed
// exactly 3 times, without a deadlock; the others are refused with "a
// support incident is required" and leave no ticket; a retried call for a
// ticket that took one takes none.
func TestUseIncidentConcurrentTicketsTakeTheLastOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	d := b.department(t, true)
	b.grant(t, c.ID, 3)
	start := make(chan struct{})
	tickets := make([]int64, 10)
	errs := make([]error, len(tickets))
	var wg sync.WaitGroup
	for i := range tickets {
		wg.Go(func() {
			<-start
			errs[i] = b.store.Tx(b.ctx, func(tx *store.Store) error {
				id, err := tx.InsertTicket(b.ctx, c.ID, d.ID, rand.Text())
				if err != nil {
					return err
				}
				tickets[i] = id
				return tx.UseIncident(b.ctx, c.ID, id)
			})
		})
	}
	close(start)
	wg.Wait()
	var used []int64
	for i, err := range errs {
		if err == nil {
			used = append(used, tickets[i])
			continue
		}
		require.True(t, billing.IsIncidentRequired(err), "%v", err)
	}
	require.Len(t, used, 3, "exactly the 3 incidents were taken")
	in := b.incidents(t, c.ID)
	require.Zero(t, in.Balance)
	require.Equal(t, 4, in.Total, "a grant and 3 tickets")
	var rows int
	require.NoError(t, dbtest.Pool(t).QueryRow(b.ctx, `SELECT count(*) FROM tickets WHERE customer_id = $1`, c.ID).Scan(&rows))
	require.Equal(t, 3, rows, "the refused tickets were rolled back")

	// A retry of a ticket that took one takes none.
	require.NoError(t, b.store.UseIncident(b.ctx, c.ID, used[0]))
	require.Equal(t, 4, b.incidents(t, c.ID).Total)
	require.Equal(t, billing.IncidentTicket, b.incidents(t, c.ID).Items[0].Reason)
}

// TestUseIncidentRefusal: the refusal's code, message and field; a refused
// ticket's transaction writes nothing; a department that doesn't require
// incidents takes none.
func TestUseIncidentRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	d := b.department(t, true)
	err := b.store.UseIncident(b.ctx, c.ID, b.ticket(t, c, d))
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))
	be := err.(*billing.Error)
	require.True(t, strings.HasPrefix(be.Message, "a support incident is required"), be.Message)
	require.Contains(t, be.Message, d.Name)
	require.Contains(t, be.Message, "order a product that includes support incidents, or ask the provider's staff to grant some")
	require.Contains(t, be.Fields, "department_id")
	require.Zero(t, b.incidents(t, c.ID).Total)

	free := b.department(t, false)
	require.NoError(t, b.store.UseIncident(b.ctx, c.ID, b.ticket(t, c, free)))
	require.Zero(t, b.incidents(t, c.ID).Total, "a department without incidents takes none")

	b.grant(t, c.ID, 1)
	require.NoError(t, b.store.UseIncident(b.ctx, c.ID, b.ticket(t, c, d)))
	in := b.incidents(t, c.ID)
	require.Zero(t, in.Balance)
	require.Equal(t, -1, in.Items[0].Delta)
	require.NotNil(t, in.Items[0].TicketID)

	other := b.newCustomer(t)
	require.Error(t, b.store.UseIncident(b.ctx, other.ID, b.ticket(t, c, d)), "a ticket of another customer")
}

// TestGrantIncidents: a request key makes a grant once; a correction can't
// take the balance below 0; a key reused for another count conflicts.
func TestGrantIncidents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	key := rand.Text()
	first, created, err := b.store.GrantIncidents(b.ctx, c.ID, 0, billing.IncidentGrantInput{Count: 2, Note: "goodwill"}, key)
	require.NoError(t, err)
	require.True(t, created)
	again, created, err := b.store.GrantIncidents(b.ctx, c.ID, 0, billing.IncidentGrantInput{Count: 2, Note: "goodwill"}, key)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, int64(2), b.incidents(t, c.ID).Balance)

	_, _, err = b.store.GrantIncidents(b.ctx, c.ID, 0, billing.IncidentGrantInput{Count: 3}, key)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "the key holds a grant of 2")

	_, _, err = b.store.GrantIncidents(b.ctx, c.ID, 0, billing.IncidentGrantInput{Count: -3}, "")
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	require.Contains(t, err.(*billing.Error).Fields["count"], "at least -2")
	fix, _, err := b.store.GrantIncidents(b.ctx, c.ID, 0, billing.IncidentGrantInput{Count: -2}, "")
	require.NoError(t, err)
	require.Equal(t, billing.IncidentCorrection, fix.Reason)
	in := b.incidents(t, c.ID)
	require.Zero(t, in.Balance)
	require.Equal(t, []int{-2, 2}, []int{in.Items[0].Delta, in.Items[1].Delta}, "newest first")

	_, _, err = b.store.GrantIncidents(b.ctx, 1<<50, 0, billing.IncidentGrantInput{Count: 1}, "")
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))
}

// numbered is periodCharge with its period's number, as the activity charges it.
func numbered(p billing.Product, sub billing.Subscription, period int) store.PeriodCharge {
	pc := periodCharge(p, sub, period)
	pc.Period = period
	return pc
}

// TestChargePeriodGrantsIncidents: a period charge of a product with
// support_incidents grants them once (a replay grants none), a free
// product's too; a refund of the charge takes back what is left of them,
// once, never below 0 (nothing, when all were used, and a retry nothing
// either).
func TestChargePeriodGrantsIncidents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	p, sub := b.order(t, c)
	p.SupportIncidents = 5
	p, err := b.store.UpdateProduct(b.ctx, p.ID, p)
	require.NoError(t, err)
	require.Equal(t, 5, p.SupportIncidents)

	_, err = b.store.ChargePeriod(b.ctx, numbered(p, sub, 1))
	require.NoError(t, err)
	require.Equal(t, int64(5), b.incidents(t, c.ID).Balance)
	_, err = b.store.ChargePeriod(b.ctx, numbered(p, sub, 1))
	require.NoError(t, err)
	in := b.incidents(t, c.ID)
	require.Equal(t, int64(5), in.Balance, "a replayed charge grants none")
	require.Equal(t, billing.IncidentPurchase, in.Items[0].Reason)
	require.Equal(t, sub.ID, *in.Items[0].SubscriptionID)
	require.Equal(t, 1, *in.Items[0].Period)

	_, err = b.store.ChargePeriod(b.ctx, numbered(p, sub, 2))
	require.NoError(t, err)
	require.Equal(t, int64(10), b.incidents(t, c.ID).Balance)
	d := b.department(t, true)
	for range 8 {
		require.NoError(t, b.store.UseIncident(b.ctx, c.ID, b.ticket(t, c, d)))
	}
	key := fmt.Sprintf("subscription:%d:period:%d", sub.ID, 2)
	refund, err := b.store.Refund(b.ctx, c.ID, key, "cancelled")
	require.NoError(t, err)
	require.Equal(t, p.Price, refund.Amount)
	in = b.incidents(t, c.ID)
	require.Zero(t, in.Balance, "the 2 left of period 2's 5 are taken back, not 5")
	require.Equal(t, -2, in.Items[0].Delta)
	require.Equal(t, billing.IncidentRefund, in.Items[0].Reason)
	b.grant(t, c.ID, 4)
	_, err = b.store.Refund(b.ctx, c.ID, key, "cancelled")
	require.NoError(t, err)
	require.Equal(t, int64(4), b.incidents(t, c.ID).Balance, "a refund takes incidents back once")

	// A refund when all were used takes back none, and its retry none either.
	_, err = b.store.ChargePeriod(b.ctx, numbered(p, sub, 3))
	require.NoError(t, err)
	for range 9 {
		require.NoError(t, b.store.UseIncident(b.ctx, c.ID, b.ticket(t, c, d)))
	}
	key = fmt.Sprintf("subscription:%d:period:%d", sub.ID, 3)
	_, err = b.store.Refund(b.ctx, c.ID, key, "cancelled")
	require.NoError(t, err)
	in = b.incidents(t, c.ID)
	require.Equal(t, 0, in.Items[0].Delta)
	require.Equal(t, billing.IncidentRefund, in.Items[0].Reason)
	b.grant(t, c.ID, 4)
	_, err = b.store.Refund(b.ctx, c.ID, key, "cancelled")
	require.NoError(t, err)
	require.Equal(t, int64(4), b.incidents(t, c.ID).Balance)

	// A free product's period is charged at 0 (no ledger entry) and grants too.
	zero := int64(0)
	freeIn := billing.ProductInput{Name: "Support plan", Price: &zero, Currency: "EUR", PeriodUnit: billing.PeriodMonth, SupportIncidents: 3}
	require.NoError(t, freeIn.Validate(nil))
	free, err := b.store.CreateProduct(b.ctx, freeIn.Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: free.ID}, "", 0)
	require.NoError(t, err)
	for range 2 {
		_, err = b.store.ChargePeriod(b.ctx, numbered(free, o.Subscription, 1))
		require.NoError(t, err)
	}
	require.Equal(t, int64(7), b.incidents(t, c.ID).Balance)
}
