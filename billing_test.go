package billing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestAddPeriodsIsCalendarCorrect(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	jan31 := time.Date(2025, 1, 31, 10, 0, 0, 0, berlin)
	for _, tc := range []struct {
		unit string
		n    int
		want time.Time
	}{
		{billing.PeriodMonth, 1, time.Date(2025, 2, 28, 10, 0, 0, 0, berlin)},
		{billing.PeriodMonth, 2, time.Date(2025, 3, 31, 10, 0, 0, 0, berlin)},
		{billing.PeriodMonth, 13, time.Date(2026, 2, 28, 10, 0, 0, 0, berlin)},
		{billing.PeriodMonth, 37, time.Date(2028, 2, 29, 10, 0, 0, 0, berlin)},
		{billing.PeriodMonth, 3, time.Date(2025, 4, 30, 10, 0, 0, 0, berlin)},
		{billing.PeriodDay, 60, time.Date(2025, 4, 1, 10, 0, 0, 0, berlin)}, // across the DST change, still 10:00
		{billing.PeriodMinute, 90, jan31.Add(90 * time.Minute)},
		{billing.PeriodSecond, 30, jan31.Add(30 * time.Second)},
	} {
		require.Equal(t, tc.want, billing.AddPeriods(jan31, tc.unit, tc.n), "%d %s", tc.n, tc.unit)
	}
}

func TestMoneyString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "12.50 EUR", billing.Money{Amount: 1250, Currency: "EUR"}.String())
	require.Equal(t, "-0.05 USD", billing.Money{Amount: -5, Currency: "USD"}.String())
	require.Equal(t, "1200 JPY", billing.Money{Amount: 1200, Currency: "JPY"}.String())
	require.Equal(t, "1.005 KWD", billing.Money{Amount: 1005, Currency: "KWD"}.String())
}

func TestValidators(t *testing.T) {
	t.Parallel()
	require.True(t, billing.ValidEmail("ann.o'neil+tag@example.co.uk"))
	for _, bad := range []string{"", "ann", "ann@", "@example.com", "ann@localhost", "Ann <ann@example.com>", "a b@example.com"} {
		require.False(t, billing.ValidEmail(bad), bad)
	}
	require.True(t, billing.ValidCountry("DE"))
	for _, bad := range []string{"de", "XX", "DEU", "", "EU"} {
		require.False(t, billing.ValidCountry(bad), bad)
	}
	require.True(t, billing.ValidCurrency("EUR"))
	require.False(t, billing.ValidCurrency("eur"))
	require.False(t, billing.ValidCurrency("BTC"))
}
