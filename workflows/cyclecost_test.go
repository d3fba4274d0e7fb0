package workflows_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing/workflows"
)

// TestContinuedRunsCarryTheirCycleCost: the first run asks for its
// cycle-cost version (one marker) and hands it to the next run, which takes
// it without asking: no version marker, no TemporalChangeVersion upsert in
// each period's run.
func TestContinuedRunsCarryTheirCycleCost(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1299, autoRenew: true, incoming: 3})
	h.credit(10 * 1299)
	asked := 0
	ask := func(env *testsuite.TestWorkflowEnvironment) {
		env.OnGetVersion("cycle-cost", workflow.DefaultVersion, workflows.LatestCycleCost).
			Run(func(mock.Arguments) { asked++ }).Return(workflows.LatestCycleCost)
	}
	next, _, err := h.run(h.input(), ask)
	require.NoError(t, err)
	require.NotNil(t, next, "the first run continues as new")
	require.Equal(t, 1, asked, "the first run asks")
	require.Equal(t, int(workflows.LatestCycleCost), next.CycleCost, "and hands its version on")
	for i := range 3 {
		asked = 0
		next, _, err = h.run(*next, ask)
		require.NoError(t, err)
		require.NotNil(t, next, "run %d continues as new", i+2)
		require.Zero(t, asked, "run %d takes the carried version without asking", i+2)
		require.Equal(t, int(workflows.LatestCycleCost), next.CycleCost, "run %d hands it on", i+2)
	}
	require.Equal(t, int64(10*1299-5*1299), h.balance(), "the order and 4 renewals, each charged once")
}

// TestReplayContinuedRunByALaterBuild: a run that took its carried
// cycle-cost version without asking replays the same under a build whose
// newest version is later: it asks, finds no marker, and takes the carried
// one, as the run did (else it would replay the oldest behaviour and fail).
func TestReplayContinuedRunByALaterBuild(t *testing.T) {
	latest := workflows.LatestCycleCost
	workflows.LatestCycleCost = latest + 1
	t.Cleanup(func() { workflows.LatestCycleCost = latest })
	r := sdkworker.NewWorkflowReplayer()
	r.RegisterWorkflow(workflows.SubscriptionWorkflow)
	require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		"testdata/renewal_continued_run.json"))
}

// TestCarriedCycleCostNewerThanTheCode: a run handed a version this code
// doesn't know fails its task (left for a worker of a newer build), as
// GetVersion does with a marker it doesn't know.
func TestCarriedCycleCostNewerThanTheCode(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1299, autoRenew: true, incoming: 3})
	h.credit(10 * 1299)
	first, _, err := h.run(h.input(), nil)
	require.NoError(t, err)
	require.NotNil(t, first)
	in := *first
	in.CycleCost = int(workflows.LatestCycleCost) + 1
	_, _, err = h.run(in, nil)
	require.ErrorContains(t, err, "too old for cycle-cost version")
}
