package workflows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

func TestMailGatewayScheduleID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "mail-gateway-42", workflows.MailGatewayScheduleID(42))
}

// TestPollMailGatewayRetriesThenFails: an unreachable mailbox is tried
// three times, then the run fails (the next run of the schedule tries
// again); a key that can't open the password is not retried.
func TestPollMailGatewayRetriesThenFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err      error
		attempts int
	}{
		{errors.New("fetch: imap connect 127.0.0.1:9: connection refused"), 3},
		{temporal.NewNonRetryableApplicationError("no key", activities.ErrTypeMailGatewayKey, nil), 1},
	} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		var a *activities.Activities
		env.RegisterActivity(a)
		calls := 0
		env.OnActivity(a.PollMailbox, mock.Anything, activities.PollMailboxInput{GatewayID: 7}).
			Return(func(context.Context, activities.PollMailboxInput) (activities.PollMailboxResult, error) {
				calls++
				return activities.PollMailboxResult{}, tc.err
			})
		env.ExecuteWorkflow(workflows.PollMailGateway, workflows.PollMailGatewayInput{GatewayID: 7})
		require.True(t, env.IsWorkflowCompleted())
		require.Error(t, env.GetWorkflowError())
		require.Equal(t, tc.attempts, calls, tc.err.Error())
	}
}
