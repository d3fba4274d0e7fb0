package billing_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestCheckBalanceCap(t *testing.T) {
	t.Parallel()
	const capped = billing.MaxBalance
	for _, tc := range []struct {
		name    string
		balance int64
		kind    string
		amount  int64
		ok      bool
	}{
		{"credit up to the cap", capped - 5, billing.Credit, 5, true},
		{"credit past the cap", capped - 5, billing.Credit, 6, false},
		{"debit down to the cap", 5 - capped, billing.Debit, 5, true},
		{"debit past the cap", 5 - capped, billing.Debit, 6, false},
		{"debit at the top", capped, billing.Debit, billing.MaxAmount, true},
		{"credit at the bottom", -capped, billing.Credit, billing.MaxAmount, true},
		{"huge amount, no overflow", capped, billing.Credit, math.MaxInt64, false},
		{"huge debit, no overflow", -capped, billing.Debit, math.MaxInt64, false},
		{"back from beyond int64", math.MaxInt64, billing.Debit, 1, true},
		{"further beyond int64", math.MaxInt64, billing.Credit, 1, false},
		{"back from below int64", math.MinInt64, billing.Credit, 1, true},
		{"further below int64", math.MinInt64, billing.Debit, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := billing.LedgerEntry{CustomerID: 7, Kind: tc.kind, Amount: tc.amount, Currency: "EUR"}
			err := e.CheckBalanceCap(tc.balance)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
			require.Contains(t, billing.ErrorMessage(err), "10000000000000000.00 EUR")
			require.Contains(t, billing.ErrorMessage(err), "customer 7")
		})
	}
}
