package workflows

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersionsBeforeCycleCostAreFrozen: every change ID the workflow asks
// through version is one made before cycle-cost, at the version it had then
// (beforeCycleCost), so that runs of cycle-cost, which record no marker for
// them, replay the same way whatever version a later edit asks for. A later
// change has an ID of its own, which records its marker.
func TestVersionsBeforeCycleCostAreFrozen(t *testing.T) {
	re := regexp.MustCompile(`w\.version\(ctx, "([^"]+)", (\d+)\)`)
	seen := map[string]bool{}
	for _, f := range []string{"subscription.go", "updates.go", "charge.go", "followups.go", "visibility.go"} {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			v, ok := beforeCycleCost[m[1]]
			require.True(t, ok, "%s asks %q through version: add it to beforeCycleCost only if it predates cycle-cost", f, m[1])
			require.Equal(t, fmt.Sprint(v), m[2], "%s asks %q at version %s; runs of cycle-cost took it at %d", f, m[1], m[2], v)
			seen[m[1]] = true
		}
	}
	require.Len(t, seen, len(beforeCycleCost), "every change in beforeCycleCost is still asked")
}
