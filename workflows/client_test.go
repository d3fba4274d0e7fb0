package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// requireCode requires that err is a *billing.Error with code whose message
// contains message.
func requireCode(t *testing.T, err error, code, message string) {
	t.Helper()
	var be *billing.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, code, be.Code, "%v", err)
	require.Contains(t, be.Message, message)
}

// TestClientErrors: what Temporal answers an action with becomes a
// *billing.Error: the error code a rejection or failure carries (by its
// legacy name too), a conflict for an ended workflow or any other failure,
// unavailable for Temporal out of reach.
func TestClientErrors(t *testing.T) {
	t.Parallel()
	cancelled, err := converter.GetDefaultDataConverter().ToPayload(billing.SubscriptionCancelled)
	require.NoError(t, err)
	for _, tc := range []struct {
		name          string
		err           error
		code, message string
	}{
		{"rejected as invalid", temporal.NewApplicationError("days must be 1 to 3650", billing.EINVALID), billing.EINVALID, "days must be 1 to 3650"},
		{"rejected as a conflict", temporal.NewApplicationError("only a suspended service can be resumed", billing.ECONFLICT), billing.ECONFLICT, "only a suspended"},
		{"refused for lack of funds", temporal.NewNonRetryableApplicationError("less than 15.00 EUR", activities.ErrInsufficientFunds, nil), billing.EINSUFFICIENT, "less than 15.00 EUR"},
		{"refused as declined", temporal.NewNonRetryableApplicationError("beyond the credit limit", activities.ErrChargeDeclined, nil), billing.EDECLINED, "credit limit"},
		{"an activity's code, wrapped", fmt.Errorf("activity error: %w",
			temporal.NewNonRetryableApplicationError("product 7 not found", billing.ENOTFOUND, nil)), billing.ENOTFOUND, "product 7"},
		{"legacy Invalid", temporal.NewApplicationError("a reason is required", "Invalid"), billing.EINVALID, "a reason"},
		{"legacy Conflict", temporal.NewApplicationError("it is cancelled", "Conflict"), billing.ECONFLICT, "it is cancelled"},
		{"legacy InsufficientFunds", temporal.NewNonRetryableApplicationError("short", activities.LegacyInsufficientFunds, nil), billing.EINSUFFICIENT, "short"},
		{"legacy ChargeDeclined", temporal.NewNonRetryableApplicationError("declined", activities.LegacyChargeDeclined, nil), billing.EDECLINED, "declined"},
		{"a type that is no code", temporal.NewNonRetryableApplicationError("Workflow Update failed because the Workflow completed before the Update completed.",
			"AcceptedUpdateCompletedWorkflow", nil), billing.ECONFLICT, "the Workflow completed"},
		{"ended", serviceerror.NewNotFound("workflow execution already completed"), billing.ECONFLICT, "subscription 7 is cancelled; its workflow has ended"},
		{"no answer in time", context.DeadlineExceeded, billing.EUNAVAILABLE, "did not answer in time"},
		{"unreachable", serviceerror.NewUnavailable("connection refused"), billing.EUNAVAILABLE, "the workflow service is unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc2 := &mocks.Client{}
			tc2.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(nil, tc.err)
			tc2.On("SignalWorkflow", mock.Anything, "subscription-7", "", workflows.SignalPaymentReceived, mock.Anything).Return(tc.err)
			tc2.On("DescribeWorkflowExecution", mock.Anything, "subscription-7", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
				WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{SearchAttributes: &commonpb.SearchAttributes{
					IndexedFields: map[string]*commonpb.Payload{workflows.SearchStatus.GetName(): cancelled}}}}, nil)
			wf := workflows.NewClient(tc2, "")
			_, err := wf.Act(t.Context(), 7, workflows.ResumeInput{}, "")
			requireCode(t, err, tc.code, tc.message)
			requireCode(t, wf.PaymentReceived(t.Context(), 7, 1), tc.code, tc.message)
		})
	}
}

// TestClientActs: Act names the update after the action, keys it for
// idempotency, and says when an accepted action is still running.
func TestClientActs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		action   workflows.Action
		key      string
		updateID string
	}{
		{"a key of the caller's", workflows.SuspendInput{Reason: "abuse"}, "k-1", "suspend:k-1"},
		{"no key", workflows.ExtendInput{Days: 3}, "", ""},
		{"a renewal keyed by its period", workflows.RenewNowInput{Period: 3}, "", "renew-now:renew-period-3"},
		{"a renewal with a key", workflows.RenewNowInput{Period: 3}, "k-2", "renew-now:k-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(func(_ context.Context, v any) error {
				*v.(*workflows.Schedule) = workflows.Schedule{Status: billing.SubscriptionActive, Period: 3}
				return nil
			})
			tc2 := &mocks.Client{}
			tc2.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
				return o.WorkflowID == "subscription-7" && o.UpdateName == tc.action.UpdateName() && o.UpdateID == tc.updateID &&
					len(o.Args) == 1 && o.Args[0] == tc.action && o.WaitForStage == client.WorkflowUpdateStageAccepted
			})).Return(h, nil)
			sched, err := workflows.NewClient(tc2, "").Act(t.Context(), 7, tc.action, tc.key)
			require.NoError(t, err)
			require.Equal(t, 3, sched.Period)
		})
	}

	h := &mocks.WorkflowUpdateHandle{}
	h.On("Get", mock.Anything, mock.Anything).Return(func(ctx context.Context, _ any) error {
		<-ctx.Done()
		return ctx.Err()
	})
	tc := &mocks.Client{}
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(h, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := workflows.NewClient(tc, "").Act(ctx, 7, workflows.CancelInput{}, "")
	require.ErrorIs(t, err, workflows.ErrActionRunning, "accepted, and not answered in time")
}

// TestClientOnARealServer: on a real Temporal server with the real worker,
// the client starts a subscription (again is a no-op), reads its schedule,
// and acts on it; a rejected action, an action on the ended workflow and
// one on a workflow that never started are *billing.Error values.
func TestClientOnARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	t.Parallel()
	dev, err := temporaltest.Start(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = dev.Stop() })
	h := setup(t, options{price: 0, autoRenew: true, incoming: 1}) // free: active at once
	w := worker.New(dev.Client(), workflows.TaskQueue, h.acts, worker.Options{})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	wf := workflows.NewClient(dev.Client(), "")
	ctx := t.Context()

	run, err := wf.Start(ctx, h.input(), h.product)
	require.NoError(t, err)
	again, err := wf.Start(ctx, h.input(), h.product)
	require.NoError(t, err, "starting it again is a no-op")
	require.Equal(t, run, again)
	started, err := wf.Started(ctx, h.sub.ID)
	require.NoError(t, err)
	require.True(t, started)
	require.Eventually(t, func() bool {
		s, err := wf.Schedule(ctx, h.sub.ID)
		return err == nil && s.Status == billing.SubscriptionActive
	}, 30*time.Second, 50*time.Millisecond)

	_, err = wf.Act(ctx, h.sub.ID, workflows.ExtendInput{Days: 0}, "")
	requireCode(t, err, billing.EINVALID, "days must be 1 to 3650")
	_, err = wf.Act(ctx, h.sub.ID, workflows.ResumeInput{}, "")
	requireCode(t, err, billing.ECONFLICT, "only a suspended service can be resumed")
	sched, err := wf.Act(ctx, h.sub.ID, workflows.ExtendInput{Days: 3}, "")
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionActive, sched.Status)
	sched, err = wf.Act(ctx, h.sub.ID, workflows.CancelInput{}, "")
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionCancelled, sched.Status)
	require.NoError(t, dev.Client().GetWorkflow(ctx, billing.SubscriptionWorkflowID(h.sub.ID), "").Get(ctx, nil), "the workflow ends")

	// Temporal answers NotFound for the ended workflow, a type, not a text.
	_, err = wf.Act(ctx, h.sub.ID, workflows.ExtendInput{Days: 3}, "")
	requireCode(t, err, billing.ECONFLICT, "is cancelled; its workflow has ended")
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound)
	requireCode(t, wf.PaymentReceived(ctx, h.sub.ID, 1), billing.ECONFLICT, "is cancelled; its workflow has ended")
	sched, err = wf.Schedule(ctx, h.sub.ID)
	require.NoError(t, err, "an ended workflow still answers its query")
	require.Equal(t, billing.SubscriptionCancelled, sched.Status)

	const never = 999999999
	_, err = wf.Act(ctx, never, workflows.CancelInput{}, "")
	requireCode(t, err, billing.ECONFLICT, "has ended")
	started, err = wf.Started(ctx, never)
	require.NoError(t, err)
	require.False(t, started)

	down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		ConnectionOptions: client.ConnectionOptions{GetSystemInfoTimeout: time.Second}})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = workflows.NewClient(down, "").Act(short, h.sub.ID, workflows.CancelInput{}, "")
	requireCode(t, err, billing.EUNAVAILABLE, "")
	require.False(t, errors.Is(err, workflows.ErrActionRunning))
}
