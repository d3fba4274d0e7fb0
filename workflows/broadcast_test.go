package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// fakeAudience stands for customers 1..n with one user each: the batches
// the workflow asked for, and how its run ended.
type fakeAudience struct {
	mu        sync.Mutex
	n         int
	batches   []activities.SendMessageBatchInput
	starts    int
	finished  []activities.FinishMessageInput
	batchTime []time.Time
	// finishTakes is how long FinishMessage takes (in the test's time).
	finishTakes time.Duration
}

// broadcastEnv is a test environment whose message activities are fakeAudience's.
func (f *fakeAudience) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	acts := &activities.Activities{}
	env.RegisterWorkflow(workflows.BroadcastWorkflow)
	env.RegisterActivity(acts)
	env.OnActivity(acts.StartMessage, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.StartMessageInput) (activities.StartMessageResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.starts++
			return activities.StartMessageResult{Total: f.n}, nil
		})
	env.OnActivity(acts.SendMessageBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendMessageBatchInput) (activities.SendMessageBatchResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.batches = append(f.batches, in)
			f.batchTime = append(f.batchTime, env.Now())
			k := min(in.Limit, f.n-int(in.After))
			return activities.SendMessageBatchResult{Cursor: in.After + int64(k), Customers: k, Sent: k,
				Done: int(in.After)+k >= f.n}, nil
		})
	env.OnActivity(acts.FinishMessage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishMessageInput) (activities.FinishMessageResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.finished = append(f.finished, in)
			status := billing.MessageDone
			if in.Cancelled {
				status = billing.MessageCancelled
			}
			return activities.FinishMessageResult{Status: status}, nil
		}).After(f.finishTakes)
	return env
}

func (f *fakeAudience) cursors() []int64 {
	var out []int64
	for _, b := range f.batches {
		out = append(out, b.After)
	}
	return out
}

// TestBroadcastBatchesAtTheRate: 95 customers in batches of 20 at 10
// emails a second: five batches, each from the last customer of the one
// before, two seconds apart, then the message is done.
func TestBroadcastBatchesAtTheRate(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 95}
	env := f.env(t)
	start := env.Now()
	env.ExecuteWorkflow(workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.BroadcastResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, billing.MessageDone, res.Status)
	require.Equal(t, []int64{0, 20, 40, 60, 80}, f.cursors())
	for i, b := range f.batches {
		require.Equal(t, 20, b.Limit)
		require.Equal(t, 10.0, b.Rate, "the batch paces its sends at the rate")
		require.Equal(t, 2*time.Duration(i)*time.Second, f.batchTime[i].Sub(start), "batch %d: 20 emails at 10/s take 2 s", i)
	}
	require.Equal(t, []activities.FinishMessageInput{{MessageID: 7}}, f.finished)
	require.Equal(t, 1, f.starts)

	v, err := env.QueryWorkflow(workflows.QueryMessageProgress)
	require.NoError(t, err)
	var p workflows.BroadcastProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, billing.MessageDone, p.Status)
	require.Equal(t, 95, p.Sent)
	require.Equal(t, 95, p.Total)
	require.Equal(t, 5, p.Batches)
}

// TestBroadcastDefaultBatch: without a batch size, a batch is the rate
// times BatchSeconds emails.
func TestBroadcastDefaultBatch(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 30}
	env := f.env(t)
	env.ExecuteWorkflow(workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: 7, Rate: 2})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []int64{0, 10, 20}, f.cursors())
}

// TestBroadcastProgressQuery: while it sends, the query answers how far it
// is.
func TestBroadcastProgressQuery(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 95}
	env := f.env(t)
	var p workflows.BroadcastProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryMessageProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&p))
	}, 3*time.Second)
	env.ExecuteWorkflow(workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, workflows.BroadcastProgress{MessageID: 7, Status: billing.MessageSending, BroadcastState: workflows.BroadcastState{
		Started: true, Total: 95, Cursor: 40, Customers: 40, Sent: 40, Batches: 2}}, p)
}

// TestBroadcastCancel: a cancel stops the sending after the batch in
// flight; the message ends cancelled.
func TestBroadcastCancel(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 95}
	env := f.env(t)
	var accepted workflows.BroadcastProgress
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancelMessage, "cancel-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { t.Errorf("cancel rejected: %v", err) },
			OnComplete: func(v any, err error) {
				require.NoError(t, err)
				accepted = v.(workflows.BroadcastProgress)
			},
		}, workflows.CancelMessageInput{})
	}, 3*time.Second)
	start := env.Now()
	env.ExecuteWorkflow(workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.BroadcastResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, billing.MessageCancelled, res.Status)
	require.Equal(t, "cancelling", accepted.Status)
	require.True(t, accepted.Cancelled)
	require.Equal(t, []int64{0, 20}, f.cursors(), "no batch starts after the cancel")
	require.Equal(t, []activities.FinishMessageInput{{MessageID: 7, Cancelled: true}}, f.finished)
	require.Equal(t, 3*time.Second, env.Now().Sub(start), "the wait for the next batch ends with the cancel")

}

// TestBroadcastCancelWhileFinishing: once every batch is sent and the
// message is being finished, a cancel is refused (409): it could no longer
// happen, and a 202 would say it did.
func TestBroadcastCancelWhileFinishing(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 20, finishTakes: 10 * time.Second}
	env := f.env(t)
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancelMessage, "cancel-1", &testsuite.TestUpdateCallback{
			OnAccept:   func() { t.Error("a cancel while finishing was accepted") },
			OnReject:   func(err error) { rejected = err },
			OnComplete: func(any, error) {},
		}, workflows.CancelMessageInput{})
	}, 5*time.Second)
	env.ExecuteWorkflow(workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.BroadcastResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, billing.MessageDone, res.Status)
	require.Error(t, rejected)
	require.Equal(t, billing.ECONFLICT, applicationType(rejected))
}

// applicationType is the type of err's application error, if it has one.
func applicationType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// TestBroadcastContinuesAsNew: a run sends BatchesPerRun batches, then
// continues as new with its cursor and counts; the next run doesn't count
// the audience again and goes on from the cursor.
func TestBroadcastContinuesAsNew(t *testing.T) {
	t.Parallel()
	f := &fakeAudience{n: 95}
	in := workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20, BatchesPerRun: 2}
	runs := 0
	for {
		runs++
		require.Less(t, runs, 10)
		env := f.env(t)
		env.ExecuteWorkflow(workflows.BroadcastWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		err := env.GetWorkflowError()
		if err == nil {
			break
		}
		var can *workflow.ContinueAsNewError
		require.True(t, asCAN(err, &can), "%v", err)
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
		require.Equal(t, int64(40*runs), in.State.Cursor)
		require.Equal(t, 40*runs, in.State.Sent)
		require.Equal(t, runs, in.State.Runs)
	}
	require.Equal(t, 3, runs)
	require.Equal(t, 1, f.starts, "the audience is counted once")
	require.Equal(t, []int64{0, 20, 40, 60, 80}, f.cursors())
	require.Len(t, f.finished, 1)
}

// TestBroadcastCancelAtContinueAsNew: a cancel that arrives as a run ends
// its last batch stops the loop in that run; one that comes once the run
// has continued as new goes to the next run (the update names the workflow,
// not the run), which ends cancelled after at most the batch in flight; a
// cancel accepted in the old run travels in the state. No other batch starts.
func TestBroadcastCancelAtContinueAsNew(t *testing.T) {
	t.Parallel()
	cancel := func(env *testsuite.TestWorkflowEnvironment, at time.Duration) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateCancelMessage, "cancel-1", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("cancel refused: %v", err) }, OnComplete: func(any, error) {},
			}, workflows.CancelMessageInput{})
		}, at)
	}
	for _, at := range []time.Duration{2*time.Second - time.Millisecond, 2 * time.Second, 2*time.Second + time.Millisecond} {
		f := &fakeAudience{n: 95}
		in := workflows.BroadcastInput{MessageID: 7, Rate: 10, BatchSize: 20, BatchesPerRun: 1}
		env := f.env(t)
		cancel(env, at)
		env.ExecuteWorkflow(workflows.BroadcastWorkflow, in)
		require.True(t, env.IsWorkflowCompleted())
		want := []int64{0}
		if err := env.GetWorkflowError(); err != nil {
			var can *workflow.ContinueAsNewError
			require.True(t, asCAN(err, &can), "%v", err)
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			env = f.env(t)
			if !in.State.Cancelled {
				cancel(env, time.Millisecond) // it reaches the next run
				want = []int64{0, 20}         // whose first batch was in flight
			}
			env.ExecuteWorkflow(workflows.BroadcastWorkflow, in)
			require.NoError(t, env.GetWorkflowError(), "at %v", at)
		}
		require.Equal(t, want, f.cursors(), "at %v: no batch after the cancel but the one in flight", at)
		require.Equal(t, []activities.FinishMessageInput{{MessageID: 7, Cancelled: true}}, f.finished, "at %v", at)
	}
}
