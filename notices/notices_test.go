package notices

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	t.Parallel()
	got := Render("Dear [USER_NAME] [USER_LASTNAME] ([LOGIN]): [PAYMENT_AMOUNT] on [DATE_OF_PAYMENT], [UNKNOWN]",
		map[string]string{"[USER_NAME]": "Ann", "[USER_LASTNAME]": "Lee", "[LOGIN]": "ann", "[PAYMENT_AMOUNT]": "12.99 EUR",
			"[DATE_OF_PAYMENT]": "2026-12-01"})
	require.Equal(t, "Dear Ann Lee (ann): 12.99 EUR on 2026-12-01, [UNKNOWN]", got)
	require.Equal(t, "[LOGIN] stays", Render("[LOGIN] stays", nil))
	require.Equal(t, "no re-expansion: [LOGIN]", Render("no re-expansion: [USER_NAME]", map[string]string{"[USER_NAME]": "[LOGIN]", "[LOGIN]": "x"}))
}
