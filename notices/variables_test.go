package notices

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
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

func TestValues(t *testing.T) {
	t.Parallel()
	f := Facts{
		User:           billing.User{Login: "ann", FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"},
		Balance:        billing.Money{Amount: -250, Currency: "EUR"},
		Price:          billing.Money{Amount: 1299, Currency: "EUR"},
		ProductName:    "Hosting",
		SubscriptionID: 42,
		PaidUntil:      time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		DeleteAt:       time.Date(2027, 7, 1, 12, 30, 0, 0, time.UTC),
		Days:           5,
		SuspendReason:  "not paid",
		TimeZone:       "Europe/Berlin",
		UpdatesUntil:   time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC),
	}
	want := map[string]string{
		"[LOGIN]": "ann", "[USER_NAME]": "Ann", "[USER_LASTNAME]": "Lee", "[ACCOUNT_STATE]": "-2.50 EUR",
		"[DATE_OF_PAYMENT]": "2026-12-01 01:00 CET", "[PAYMENT_NAME]": "Hosting", "[PAYMENT_AMOUNT]": "12.99 EUR",
		"[SERVICE_ID]": "42", "[PAID_UNTIL]": "2026-12-01 01:00 CET", "[DELETE_DATE]": "2027-07-01 14:30 CEST", "[DAYS]": "5",
		"[SUSPEND_REASON]": "not paid", "[UPDATES_UNTIL]": "2027-01-31 10:00 CET", "[PARAMETERS]": "",
	}
	got := f.Values()
	require.Equal(t, want, got)
	require.ElementsMatch(t, append(slices.Clone(SubscriptionVariables), "[UPDATES_UNTIL]", "[PARAMETERS]"), slices.Collect(maps.Keys(got)),
		"every variable has a value, license_updates_expiring's and order_parameters_needed's too")

	// Every variable filled, unknown ones left as they are.
	text := strings.Join(SubscriptionVariables, "|") + "|[UNKNOWN]|[login]"
	require.Equal(t, "ann|Ann|Lee|-2.50 EUR|2026-12-01 01:00 CET|Hosting|12.99 EUR|42|2026-12-01 01:00 CET|2027-07-01 14:30 CEST|5|not paid|[UNKNOWN]|[login]",
		Render(text, got))

	t.Run("no dates, no reason, no time zone", func(t *testing.T) {
		t.Parallel()
		got := Facts{PaidUntil: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}.Values()
		require.Equal(t, "2026-12-01 00:00 UTC", got["[PAID_UNTIL]"])
		require.Equal(t, "", got["[DELETE_DATE]"])
		require.Equal(t, "-", got["[SUSPEND_REASON]"])
		require.Equal(t, "0", got["[DAYS]"])
	})
}

// TestVariableInAnotherCaseIsATypo: [user_name] or [User_Name] is never
// replaced (variables are capitals), so the customer would receive it as
// written: saving it is a 422 naming it, like [USER_NAM].
func TestVariableInAnotherCaseIsATypo(t *testing.T) {
	t.Parallel()
	e, err := Lookup(billing.MilestoneRenewed)
	require.NoError(t, err)
	for _, typo := range []string{"[user_name]", "[User_Name]", "[USER_name]", "[user name]"} {
		err := CheckVariables(e, billing.MessageTemplate{Subject: "x", Body: "Dear " + typo})
		require.Error(t, err, typo)
		require.Contains(t, err.(*billing.Error).Fields["body"], typo)
		require.Contains(t, err.(*billing.Error).Fields["body"], "[USER_NAME]", "says what was meant")
	}
	require.NoError(t, CheckVariables(e, billing.MessageTemplate{Subject: "[Note]", Body: "see [1] and [a link]"}),
		"brackets that name no variable are text")
}
