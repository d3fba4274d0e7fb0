package workflows

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
)

// StartMessage starts the workflow that sends message m to its customers
// at m.Rate emails a second; starting it again is a no-op.
func (c *Client) StartMessage(ctx context.Context, m billing.Message) error {
	to := "all customers"
	if m.CustomerID != nil {
		to = fmt.Sprintf("customer %d", *m.CustomerID)
	}
	if m.Language != "" {
		to += " of language " + m.Language
	}
	_, err := c.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       billing.MessageWorkflowID(m.ID),
		TaskQueue:                c.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Message %d (%s) to %s: %s", m.ID, m.Category, to, m.Subject),
	}, BroadcastWorkflow, BroadcastInput{MessageID: m.ID, Rate: m.Rate})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return unavailable(err)
	}
	return nil
}

// CancelMessage stops message id's sending after the batch in flight and
// returns the progress then. A message that has finished is a conflict.
func (c *Client) CancelMessage(ctx context.Context, id int64) (BroadcastProgress, error) {
	h, err := c.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: billing.MessageWorkflowID(id),
		UpdateName: UpdateCancelMessage, Args: []any{CancelMessageInput{}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var p BroadcastProgress
	if err == nil {
		err = h.Get(ctx, &p)
	}
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return p, &billing.Error{Code: billing.ECONFLICT, Message: fmt.Sprintf("message %d has finished sending", id), Cause: err}
		}
		return p, c.actionError(ctx, 0, err)
	}
	return p, nil
}

// MessageProgress asks message id's workflow how far its sending is.
func (c *Client) MessageProgress(ctx context.Context, id int64) (BroadcastProgress, error) {
	var p BroadcastProgress
	v, err := c.c.QueryWorkflow(ctx, billing.MessageWorkflowID(id), "", QueryMessageProgress)
	if err != nil {
		return p, unavailable(err)
	}
	return p, v.Get(&p)
}
