package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// Client starts subscription workflows and talks to them: the one place that
// knows their workflow, update, query and signal names. Its errors are
// *billing.Error values: a rejected or failed action carries the error code
// the workflow or an activity failed with, an ended workflow is ECONFLICT and
// an unreachable Temporal is EUNAVAILABLE.
type Client struct {
	c         client.Client
	taskQueue string
}

// NewClient returns a Client that starts workflows on taskQueue ("" is TaskQueue).
func NewClient(c client.Client, taskQueue string) *Client {
	if taskQueue == "" {
		taskQueue = TaskQueue
	}
	return &Client{c: c, taskQueue: taskQueue}
}

// ActionWait is how long Act waits for an accepted action to complete
// before it answers ErrActionRunning.
const ActionWait = 30 * time.Second

// ErrActionRunning is Act's answer for an action that the workflow accepted
// and has not completed within ActionWait: it will, so the caller should
// not send it again.
var ErrActionRunning = errors.New("the action was accepted and is still running")

// Start starts the workflow of a subscription ordered for product, with
// in.State (nil for a new order) and search attributes that let ops find it
// in the Temporal UI. Starting one that runs or ran is a no-op. It returns
// the ID of the run.
func (c *Client) Start(ctx context.Context, in SubscriptionInput, product billing.Product) (runID string, err error) {
	status := billing.SubscriptionUnpaid
	if in.State != nil {
		status = in.State.Status
	}
	opts := client.StartWorkflowOptions{
		ID:                       billing.SubscriptionWorkflowID(in.SubscriptionID),
		TaskQueue:                c.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Subscription %d: %s for customer %d", in.SubscriptionID, product.Name, in.CustomerID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchCustomerID.ValueSet(in.CustomerID),
			SearchProductID.ValueSet(product.ID),
			SearchStatus.ValueSet(status)),
	}
	run, err := c.c.ExecuteWorkflow(ctx, opts, SubscriptionWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return started.RunId, nil
	}
	if err != nil {
		return "", unavailable(err)
	}
	return run.GetRunID(), nil
}

// Started says whether the workflow of subscription id was ever started:
// false only when Temporal says it does not know it.
func (c *Client) Started(ctx context.Context, id int64) (bool, error) {
	_, err := c.c.DescribeWorkflowExecution(ctx, billing.SubscriptionWorkflowID(id), "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &notFound):
		return false, nil
	}
	return false, unavailable(err)
}

// Act sends a staff or client action to subscription id's workflow and
// returns the schedule after it. key, if set, makes the action idempotent:
// the same key is the same action, which Temporal runs once. A renewal
// without a key gets one from the period it names, so that a double click
// charges once. A rejected action leaves no trace in the workflow.
func (c *Client) Act(ctx context.Context, id int64, action Action, key string) (Schedule, error) {
	if r, ok := action.(RenewNowInput); ok && key == "" && r.Period != 0 {
		key = fmt.Sprintf("renew-period-%d", r.Period)
	}
	if key != "" {
		key = action.UpdateName() + ":" + key
	}
	h, err := c.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: key, WorkflowID: billing.SubscriptionWorkflowID(id), UpdateName: action.UpdateName(), Args: []any{action},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		return Schedule{}, c.actionError(ctx, id, err)
	}
	wait, cancel := context.WithTimeout(ctx, ActionWait)
	defer cancel()
	var sched Schedule
	if err := h.Get(wait, &sched); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Schedule{}, ErrActionRunning
		}
		return Schedule{}, c.actionError(ctx, id, err)
	}
	return sched, nil
}

// Schedule asks subscription id's workflow for its live schedule (it also
// answers once the workflow has ended).
func (c *Client) Schedule(ctx context.Context, id int64) (Schedule, error) {
	v, err := c.c.QueryWorkflow(ctx, billing.SubscriptionWorkflowID(id), "", QuerySchedule)
	if err != nil {
		return Schedule{}, c.actionError(ctx, id, err)
	}
	var sched Schedule
	if err := v.Get(&sched); err != nil {
		return Schedule{}, fmt.Errorf("schedule of subscription %d: %w", id, err)
	}
	return sched, nil
}

// PaymentReceived tells subscription id's workflow that the customer's
// balance was credited by payment paymentID (0: by staff), so that a
// subscription waiting for money charges now.
func (c *Client) PaymentReceived(ctx context.Context, id, paymentID int64) error {
	err := c.c.SignalWorkflow(ctx, billing.SubscriptionWorkflowID(id), "", SignalPaymentReceived, PaymentReceived{PaymentID: paymentID})
	if err != nil {
		return c.actionError(ctx, id, err)
	}
	return nil
}

// CheckHealth says whether Temporal answers.
func (c *Client) CheckHealth(ctx context.Context) error {
	_, err := c.c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// legacyCodes are the error types that rejected updates and refused charges
// had before they were error codes. A worker not yet upgraded, or a refusal
// recorded before, still answers with them.
var legacyCodes = map[string]string{
	"Invalid":                          billing.EINVALID,
	"Conflict":                         billing.ECONFLICT,
	activities.LegacyInsufficientFunds: billing.EINSUFFICIENT,
	activities.LegacyChargeDeclined:    billing.EDECLINED,
}

// actionError turns the error of an update, query or signal to subscription
// id's workflow into a *billing.Error: a rejection or failure keeps its error
// code and message; an unknown workflow, or one that has ended, is a
// conflict; anything else means Temporal could not be reached.
func (c *Client) actionError(ctx context.Context, id int64, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		code := appErr.Type()
		if legacy, ok := legacyCodes[code]; ok {
			code = legacy
		}
		if !billing.IsCode(code) {
			// Another failure the action met, such as the server's
			// AcceptedUpdateCompletedWorkflow (the workflow ended first) or
			// an activity's PermanentDatabaseError: the action did not apply.
			code = billing.ECONFLICT
		}
		return &billing.Error{Code: code, Message: appErr.Message(), Cause: err}
	}
	// Temporal answers NotFound ("workflow execution already completed") to
	// an update or signal for a workflow that has ended or never started.
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return c.ended(ctx, id, err)
	}
	return unavailable(err)
}

// ended is the conflict of an action on a workflow that has ended, naming
// the status it ended in when Temporal still knows it.
func (c *Client) ended(ctx context.Context, id int64, cause error) error {
	e := &billing.Error{Code: billing.ECONFLICT, Message: fmt.Sprintf("subscription %d has ended; its workflow is closed", id), Cause: cause}
	desc, err := c.c.DescribeWorkflowExecution(ctx, billing.SubscriptionWorkflowID(id), "")
	if err != nil {
		return e
	}
	var status string
	p := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[SearchStatus.GetName()]
	if p != nil && converter.GetDefaultDataConverter().FromPayload(p, &status) == nil && status != "" {
		e.Message = fmt.Sprintf("subscription %d is %s; its workflow has ended", id, status)
	}
	return e
}

// unavailable hides Temporal's internals behind an unavailable error. The
// cause stays in the error's text, for the log.
func unavailable(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return billing.Errorf(billing.EUNAVAILABLE, "the workflow service did not answer in time; try again")
	}
	return fmt.Errorf("%w: %w", billing.Errorf(billing.EUNAVAILABLE, "the workflow service is unavailable; try again"), err)
}
