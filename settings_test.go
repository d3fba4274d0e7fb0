package billing_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestDefaultSettingsAreValid(t *testing.T) {
	t.Parallel()
	s := billing.DefaultSettings()
	require.NoError(t, s.Validate())
	require.Equal(t, []int{10, 5, 4, 3, 2, 1, 0}, s.LowMoneyNoticePeriod)
	require.Equal(t, billing.Policy{LowMoneyDays: []int{5, 4, 3, 2, 1, 0}, NearDeleteDays: []int{7, 5, 3, 1}, GraceDays: 14,
		SuspendAfterDays: 1, UnpaidOrderDays: 3, MaxUnpaidOrders: 5}, s.Policy())
}

// TestSettingsUpdate: a partial update changes only what it names, keeps
// lists from the most days to the fewest, and refuses what is out of range,
// repeated or unknown, naming every field at once.
func TestSettingsUpdate(t *testing.T) {
	t.Parallel()
	ints := func(v ...int) *[]int { return &v }
	num := func(n int) *int { return &n }
	str := func(s string) *string { return &s }
	yes := true

	s, err := billing.SettingsUpdate{NearDeletePeriod: ints(1, 10, 3), GraceDays: num(30),
		PayerVerification: &billing.PayerVerificationUpdate{Company: &yes}, DefaultLanguage: str("pt-BR")}.Apply(billing.DefaultSettings())
	require.NoError(t, err)
	want := billing.DefaultSettings()
	want.NearDeletePeriod, want.GraceDays, want.PayerVerification.Company, want.DefaultLanguage = []int{10, 3, 1}, 30, true, "pt-BR"
	require.Equal(t, want, s)
	require.True(t, s.PayerVerification.For(billing.AccountCompany))
	require.False(t, s.PayerVerification.For(billing.AccountIndividual))

	s, err = billing.SettingsUpdate{LowMoneyExpirePeriod: &[]int{}}.Apply(billing.DefaultSettings())
	require.NoError(t, err)
	require.Equal(t, []int{}, s.LowMoneyExpirePeriod, "an empty list: no such notices")

	for name, tc := range map[string]struct {
		u      billing.SettingsUpdate
		fields map[string]string
	}{
		"negative, repeated and too many days": {billing.SettingsUpdate{NearDeletePeriod: ints(3, -1), LowMoneyExpirePeriod: ints(5, 3, 5),
			LowMoneyNoticePeriod: ints(make([]int, 101)...)},
			map[string]string{"near_delete_period": "must list days from 0 to 3650", "low_money_expire_period": "lists 5 twice",
				"low_money_notice_period": "must list at most 100 days"}},
		"a day beyond ten years": {billing.SettingsUpdate{NearDeletePeriod: ints(3651)},
			map[string]string{"near_delete_period": "must list days from 0 to 3650"}},
		"numbers out of range": {billing.SettingsUpdate{GraceDays: num(-1), SuspendAfterDays: num(3651), UnpaidOrderDays: num(0),
			MaxUnpaidOrders: num(0), DeleteInactiveClientsDays: num(-5)},
			map[string]string{"grace_days": "must be a whole number from 0 to 3650", "suspend_after_days": "must be a whole number from 0 to 3650",
				"unpaid_order_days": "must be a whole number from 1 to 3650", "max_unpaid_orders": "must be a whole number from 1 to 10000",
				"delete_inactive_clients_days": "must be a whole number from 0 to 3650"}},
		"an unknown mode": {billing.SettingsUpdate{ClientVerification: str("always")},
			map[string]string{"client_verification": "must be one of: none, after_registration, after_first_payment"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.u.Apply(billing.DefaultSettings())
			var e *billing.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, billing.EINVALID, e.Code)
			require.Equal(t, tc.fields, e.Fields)
		})
	}

	for _, lang := range []string{"xx", "english", "EN", "und", "x-foo", "en_US", ""} {
		_, err := billing.SettingsUpdate{DefaultLanguage: &lang}.Apply(billing.DefaultSettings())
		var e *billing.Error
		require.ErrorAs(t, err, &e, lang)
		require.Contains(t, e.Fields, "default_language", lang)
	}
	for _, lang := range []string{"en", "de", "pt-BR", "zh-Hant"} {
		_, err := billing.SettingsUpdate{DefaultLanguage: &lang}.Apply(billing.DefaultSettings())
		require.NoError(t, err, lang)
	}
}

func TestSortDays(t *testing.T) {
	t.Parallel()
	require.Equal(t, []int{7, 5, 3, 1}, billing.SortDays([]int{1, 3, 5, 7, 3}))
	require.Equal(t, []int{}, billing.SortDays([]int{}))
}

// TestHugeListOfDaysIsRefusedQuickly: a body of 1 MB holds some 140,000
// days; the check of "at most 100" must not compare each with all before
// it (seconds of CPU per request).
func TestHugeListOfDaysIsRefusedQuickly(t *testing.T) {
	t.Parallel()
	days := make([]int, 140000)
	for i := range days {
		days[i] = 100000 + i
	}
	// Refused by its length before anything is looked for in it (the repeats
	// check is quadratic): the length is the one thing said about it.
	_, err := billing.SettingsUpdate{NearDeletePeriod: &days, LowMoneyExpirePeriod: &days}.Apply(billing.DefaultSettings())
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	require.Equal(t, "must list at most 100 days", err.(*billing.Error).Fields["near_delete_period"])
}

// TestInvoiceSettings: automatic invoicing is off by default; the provider's
// details are at most 2,000 characters.
func TestInvoiceSettings(t *testing.T) {
	t.Parallel()
	require.False(t, billing.DefaultSettings().AutoInvoicing)
	on, provider := true, "Hosting GmbH\nBerlin"
	s, err := billing.SettingsUpdate{AutoInvoicing: &on, InvoiceProvider: &provider}.Apply(billing.DefaultSettings())
	require.NoError(t, err)
	require.True(t, s.AutoInvoicing)
	require.Equal(t, provider, s.InvoiceProvider)
	long := strings.Repeat("x", 2001)
	_, err = billing.SettingsUpdate{InvoiceProvider: &long}.Apply(billing.DefaultSettings())
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	require.ErrorContains(t, err, "invoice_provider")
}
