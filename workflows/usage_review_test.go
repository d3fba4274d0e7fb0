package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// TestOverageOfAServiceRenewedByAnOldRun: a service whose run was recorded
// before the usage-overage change (it charges no overage) renews into a
// metered period and continues as new; the next run, of the current code,
// charges that period's overage at its end. Before, the state carried over
// said no period was open (the old run never tracked it), so the period was
// not closed nor charged at its renewal (and never, had the service ended).
func TestOverageOfAServiceRenewedByAnOldRun(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1000, autoRenew: true, incoming: 3})
	h.product.Resources = []billing.Resource{{Name: "minutes", Unit: "min", Included: 100, OveragePrice: 5}}
	_, err := h.store.UpdateProduct(h.ctx, h.product.ID, h.product)
	require.NoError(t, err)
	h.credit(10_000)

	// Run 1, recorded before the change: the order (period 1) and the renewal (period 2).
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.OnGetVersion("cycle-cost", workflow.DefaultVersion, workflows.LatestCycleCost).Return(workflow.DefaultVersion)
		env.OnGetVersion("usage-overage", workflow.DefaultVersion, 2).Return(workflow.DefaultVersion)
	})
	require.NoError(t, err)
	require.NotNil(t, next, "%+v", res)
	require.Equal(t, 2, next.State.Period)
	require.False(t, next.State.OpenUsage, "the old run tracks no usage")
	require.Equal(t, int64(10_000-2*1000), h.balance())

	// 130 minutes in period 2: 30 beyond, 1.50 EUR.
	at := next.State.PaidUntil.Add(-24 * time.Hour)
	u, err := h.store.Usage(h.ctx, h.sub.ID, 2)
	require.NoError(t, err)
	require.False(t, u.Closed)
	in, err := h.store.IngestUsage(h.ctx, h.sub.ID, []billing.UsageEvent{
		{Resource: "minutes", Quantity: 130, IdempotencyKey: "cdr-1", At: &at}}, at, 90)
	require.NoError(t, err)
	require.Equal(t, 1, in.Accepted)

	// Run 2, of the current code: at period 2's end its overage, then the renewal.
	next, _, err = h.run(*next, nil)
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, 3, next.State.Period)
	u, err = h.store.Usage(h.ctx, h.sub.ID, 2)
	require.NoError(t, err)
	require.True(t, u.Closed, "period 2 closed at its renewal")
	require.EqualValues(t, 150, u.OverageAmount)
	require.Equal(t, int64(10_000-3*1000-150), h.balance(), "the overage charged once, and the renewal")
	require.True(t, next.State.OpenUsage, "period 3 counts usage")
}
