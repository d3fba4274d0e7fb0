package notices

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestDefaultsCoverTheServiceMilestones(t *testing.T) {
	t.Parallel()
	var got []string
	for _, n := range List(nil) {
		got = append(got, n.Milestone)
		require.NotEmpty(t, n.Subject, n.Milestone)
		require.NotEmpty(t, n.Body, n.Milestone)
		require.False(t, n.Custom, n.Milestone)
		require.NoError(t, n.Validate(), n.Milestone)
	}
	require.ElementsMatch(t, billing.ServiceMilestones, got)
	require.IsNonDecreasing(t, got, "listed in milestone order")
}

func TestList(t *testing.T) {
	t.Parallel()
	custom := billing.NoticeTemplate{Milestone: billing.MilestoneRenewed, Subject: "Renewed", Body: "Done.", SMSBody: "Done", Custom: true}
	got := List(map[string]billing.NoticeTemplate{billing.MilestoneRenewed: custom})
	require.Len(t, got, len(defaults))
	for _, n := range got {
		if n.Milestone == billing.MilestoneRenewed {
			require.Equal(t, custom, n, "staff's text replaces the default")
			continue
		}
		want := defaults[n.Milestone]
		want.Milestone = n.Milestone
		require.Equal(t, want, n)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	got, err := Default(billing.MilestoneCancelled)
	require.NoError(t, err)
	require.Equal(t, billing.MilestoneCancelled, got.Milestone)
	require.Equal(t, "[PAYMENT_NAME] was cancelled", got.Subject)
	require.False(t, got.Custom)

	for _, m := range []string{"approved", "renewal", "nope", ""} {
		_, err := Default(m)
		require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), m)
		require.ErrorContains(t, err, "cancelled", "the error lists the notices there are")
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	got, err := Override(billing.MilestoneCancelled, billing.NoticeTemplate{Milestone: "ignored", Subject: "Bye", Body: "Gone."})
	require.NoError(t, err)
	require.Equal(t, billing.NoticeTemplate{Milestone: billing.MilestoneCancelled, Subject: "Bye", Body: "Gone.", Custom: true}, got)

	_, err = Override("nope", billing.NoticeTemplate{Subject: "Bye", Body: "Gone."})
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))
	_, err = Override(billing.MilestoneCancelled, billing.NoticeTemplate{Subject: "Bye"})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "a body is required")
}
