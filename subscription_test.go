package billing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestSubscriptionWorkflowID: the one helper that names a subscription's
// workflow; the store's rows and the API's starts and signals use it.
func TestSubscriptionWorkflowID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "subscription-42", billing.SubscriptionWorkflowID(42))
	require.Equal(t, "subscription-9223372036854775807", billing.SubscriptionWorkflowID(1<<63-1))
}
