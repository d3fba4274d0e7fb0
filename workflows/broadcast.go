package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// Names of the message workflow's query and update.
const (
	// QueryMessageProgress answers the workflow's BroadcastProgress.
	QueryMessageProgress = "progress"
	// UpdateCancelMessage stops the sending after the batch in flight.
	UpdateCancelMessage = "cancel"
)

// Defaults of a message's sending.
const (
	// DefaultMessageRate is how many emails a second a message is sent at.
	DefaultMessageRate = 10.0
	// BatchSeconds is about how long one batch takes at the message's rate:
	// a batch is Rate*BatchSeconds emails. A cancel waits for the batch in
	// flight, so at most this long.
	BatchSeconds = 5
	// DefaultBatchesPerRun is how many batches a run sends before it
	// continues as new, so that its history stays short.
	DefaultBatchesPerRun = 50
)

// BroadcastInput sends message MessageID to its customers. State is the
// progress a run carries into the next (continue-as-new).
type BroadcastInput struct {
	MessageID int64
	// Rate is the most emails a second (DefaultMessageRate if 0).
	Rate float64
	// BatchSize is the emails of one batch (Rate*BatchSeconds if 0).
	BatchSize int
	// BatchesPerRun is the batches of one run (DefaultBatchesPerRun if 0).
	BatchesPerRun int
	State         BroadcastState
}

// BroadcastState is a message's sending, carried from run to run.
type BroadcastState struct {
	Started bool
	Total   int
	// Cursor is the last customer the message was sent to.
	Cursor                                 int64
	Customers, Sent, AlreadySent, Deferred int
	Batches                                int
	Runs                                   int
	Cancelled                              bool
}

// BroadcastProgress is what the progress query answers.
type BroadcastProgress struct {
	MessageID int64
	// Status is sending, cancelling (a cancel waits for the batch in
	// flight), done or cancelled.
	Status string
	BroadcastState
}

// BroadcastResult is how a message's sending ended.
type BroadcastResult struct {
	Status   string
	Progress billing.MessageProgress
}

// CancelMessageInput asks a message's workflow to stop.
type CancelMessageInput struct{}

// broadcast is one run of BroadcastWorkflow.
type broadcast struct {
	in     BroadcastInput
	st     BroadcastState
	status string
	// finishing: every batch is done and the message is being closed; a
	// cancel is refused from then on.
	finishing bool
}

// BroadcastWorkflow sends a message to its customers in batches of whole
// customers, at most Rate emails a second, each email at most once (the
// activities' key is the message and the recipient; the workflow carries
// the last customer done). It can be cancelled (UpdateCancelMessage): the
// batch in flight ends, no further batch starts.
func BroadcastWorkflow(ctx workflow.Context, in BroadcastInput) (BroadcastResult, error) {
	w := &broadcast{in: in, st: in.State, status: billing.MessageSending}
	if w.in.Rate <= 0 {
		w.in.Rate = DefaultMessageRate
	}
	if w.in.BatchSize <= 0 {
		w.in.BatchSize = max(1, int(w.in.Rate*BatchSeconds))
	}
	if w.in.BatchesPerRun <= 0 {
		w.in.BatchesPerRun = DefaultBatchesPerRun
	}
	if err := w.setup(ctx); err != nil {
		return BroadcastResult{}, err
	}
	return w.run(ctx)
}

func (w *broadcast) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryMessageProgress, func() (BroadcastProgress, error) {
		return w.progress(), nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelMessage,
		func(ctx workflow.Context, _ CancelMessageInput) (BroadcastProgress, error) {
			w.st.Cancelled = true
			if w.status == billing.MessageSending {
				w.status = "cancelling"
			}
			w.details(ctx)
			return w.progress(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, _ CancelMessageInput) error {
			if w.status == billing.MessageDone || w.status == billing.MessageCancelled {
				return conflict(fmt.Sprintf("message %d is %s", w.in.MessageID, w.status))
			}
			if w.finishing && !w.st.Cancelled {
				return conflict(fmt.Sprintf("message %d has gone to every recipient; it can't be cancelled", w.in.MessageID))
			}
			return nil
		}})
}

func (w *broadcast) progress() BroadcastProgress {
	return BroadcastProgress{MessageID: w.in.MessageID, Status: w.status, BroadcastState: w.st}
}

// details shows the progress in the Temporal UI.
func (w *broadcast) details(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Message %d**: %s\n\n%d of %d users: %d sent, %d sent before, %d failed (sent again later)\n\n"+
		"%d customers, last %d; %d batches at %g emails/s",
		w.in.MessageID, w.status, w.st.Sent+w.st.AlreadySent+w.st.Deferred, w.st.Total, w.st.Sent, w.st.AlreadySent, w.st.Deferred,
		w.st.Customers, w.st.Cursor, w.st.Batches, w.in.Rate))
}

func (w *broadcast) run(ctx workflow.Context) (BroadcastResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A batch takes about BatchSeconds; a stalled mail server can hold
		// one send 20 s.
		StartToCloseTimeout: time.Duration(BatchSeconds)*time.Second + time.Duration(float64(w.in.BatchSize)/w.in.Rate*float64(time.Second)) + 2*time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout, // a lost worker costs seconds
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:             fmt.Sprintf("message %d", w.in.MessageID),
	})
	w.details(ctx)
	if !w.st.Started {
		var res activities.StartMessageResult
		if err := workflow.ExecuteActivity(actx, a.StartMessage, activities.StartMessageInput{MessageID: w.in.MessageID}).Get(ctx, &res); err != nil {
			return BroadcastResult{}, err
		}
		w.st.Started, w.st.Total = true, res.Total
		w.details(ctx)
	}
	for batches := 0; !w.st.Cancelled; batches++ {
		if batches == w.in.BatchesPerRun {
			return BroadcastResult{}, w.continueAsNew(ctx)
		}
		start := workflow.Now(ctx)
		var res activities.SendMessageBatchResult
		err := workflow.ExecuteActivity(actx, a.SendMessageBatch, activities.SendMessageBatchInput{MessageID: w.in.MessageID,
			After: w.st.Cursor, Limit: w.in.BatchSize, Rate: w.in.Rate}).Get(ctx, &res)
		if err != nil {
			return BroadcastResult{}, err
		}
		w.st.Cursor, w.st.Batches = res.Cursor, w.st.Batches+1
		w.st.Customers += res.Customers
		w.st.Sent, w.st.AlreadySent, w.st.Deferred = w.st.Sent+res.Sent, w.st.AlreadySent+res.AlreadySent, w.st.Deferred+res.Deferred
		w.details(ctx)
		if res.Done {
			break
		}
		// The batch paces its sends; this keeps the rate if it did not
		// (a batch of emails sent before, a replaced attempt).
		due := time.Duration(float64(res.Sent+res.AlreadySent+res.Deferred) / w.in.Rate * float64(time.Second))
		if wait := due - workflow.Now(ctx).Sub(start); wait > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return w.st.Cancelled }); err != nil {
				return BroadcastResult{}, err
			}
		}
	}
	var fin activities.FinishMessageResult
	w.finishing = true // from here a cancel could no longer stop anything
	if err := workflow.ExecuteActivity(actx, a.FinishMessage, activities.FinishMessageInput{MessageID: w.in.MessageID,
		Cancelled: w.st.Cancelled}).Get(ctx, &fin); err != nil {
		return BroadcastResult{}, err
	}
	w.status = fin.Status
	w.details(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return BroadcastResult{}, err
	}
	return BroadcastResult{Status: fin.Status, Progress: fin.Progress}, nil
}

// continueAsNew starts the next run with the progress so far, after every
// update in flight has finished.
func (w *broadcast) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	next := w.in
	next.State = w.st
	next.State.Runs++
	return workflow.NewContinueAsNewError(ctx, BroadcastWorkflow, next)
}
