package billing_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func percent(id int64, bp int) billing.Discount {
	return billing.Discount{ID: id, Kind: billing.DiscountPercent, PercentBP: &bp, ProductIDs: []int64{}}
}

func fixed(id, amount int64, currency string) billing.Discount {
	return billing.Discount{ID: id, Kind: billing.DiscountFixed, Amount: &amount, Currency: &currency, ProductIDs: []int64{}}
}

// TestDiscountOff: a percent is rounded half up to the minor unit (in the
// customer's favour), exactly for any int64 price; a fixed amount larger
// than the price takes it to 0, never below.
func TestDiscountOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d     billing.Discount
		price int64
		off   int64
	}{
		{percent(1, 1000), 1299, 130},   // 129.9 -> 130
		{percent(1, 1000), 1294, 129},   // 129.4 -> 129
		{percent(1, 1000), 1295, 130},   // 129.5 -> 130: half up
		{percent(1, 1250), 999, 125},    // 124.875 -> 125
		{percent(1, 1), 49, 0},          // 0.0049 -> 0
		{percent(1, 1), 50, 0},          // 0.005 -> 0
		{percent(1, 1), 5000, 1},        // 0.5 -> 1
		{percent(1, 10000), 1299, 1299}, // 100%: free
		{percent(1, 3333), 100, 33},
		{percent(1, 5000), 1, 1}, // 0.5 -> 1: a 1-cent price at half is free
		{percent(1, 1000), 0, 0},
		{percent(1, 9999), math.MaxInt64, 9222449699651090329}, // no overflow: MaxInt64*9999/10000 = ...0329.4193
		{percent(1, 1000), billing.MaxAmount, billing.MaxAmount / 10},
		{fixed(1, 500, "EUR"), 1299, 500},
		{fixed(1, 5000, "EUR"), 1299, 1299}, // larger than the price: 0 left
		{fixed(1, 1299, "EUR"), 1299, 1299},
	} {
		require.Equal(t, tc.off, tc.d.Off(tc.price), "%s of %d", tc.d.Label(), tc.price)
		require.GreaterOrEqual(t, tc.price-tc.d.Off(tc.price), int64(0))
	}
}

// TestDiscountLabel: the name a ledger reference and an invoice line show.
func TestDiscountLabel(t *testing.T) {
	t.Parallel()
	require.Equal(t, "discount #4 10%", percent(4, 1000).Label())
	require.Equal(t, "discount #4 12.5%", percent(4, 1250).Label())
	require.Equal(t, "discount #4 12.34%", percent(4, 1234).Label())
	require.Equal(t, "discount #4 0.05%", percent(4, 5).Label())
	require.Equal(t, "discount #4 100%", percent(4, 10000).Label())
	require.Equal(t, "discount #5 2.00 EUR", fixed(5, 200, "EUR").Label())
	require.Equal(t, "discount #5 200 JPY", fixed(5, 200, "JPY").Label())
}

// TestBestDiscount: of the discounts valid at the period's start (from
// inclusive, until exclusive), on the product (all products or a list) and
// in the charge's currency (a percent is in any), the one giving the lowest
// price applies; of equals, the lowest ID; none, if none applies.
func TestBestDiscount(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(0, 1, 0)
	valid := func(d billing.Discount, products ...int64) billing.Discount {
		d.ValidFrom, d.ValidUntil = from, &until
		if products != nil {
			d.ProductIDs = products
		}
		return d
	}
	ten, fiveEUR, fiveUSD := valid(percent(1, 1000)), valid(fixed(2, 500, "EUR")), valid(fixed(3, 500, "USD"))
	onlyP7 := valid(percent(4, 5000), 7, 9)
	tie := valid(fixed(5, 130, "EUR"))
	all := []billing.Discount{tie, ten, fiveEUR, fiveUSD, onlyP7}

	best := func(ds []billing.Discount, product int64, currency string, at time.Time, price int64) (int64, int64) {
		d, off, ok := billing.BestDiscount(ds, product, currency, at, price)
		if !ok {
			return 0, 0
		}
		return d.ID, off
	}
	id, off := best(all, 1, "EUR", from, 1299)
	require.Equal(t, [2]int64{2, 500}, [2]int64{id, off}, "500 off beats 10% (130)")
	id, off = best(all, 7, "EUR", from, 1299)
	require.Equal(t, [2]int64{4, 650}, [2]int64{id, off}, "the product's own 50% beats them")
	id, off = best(all, 9, "USD", from, 1299)
	require.Equal(t, [2]int64{4, 650}, [2]int64{id, off})
	id, off = best(all, 1, "GBP", from, 1299)
	require.Equal(t, [2]int64{1, 130}, [2]int64{id, off}, "a fixed amount applies only in its currency")
	id, off = best([]billing.Discount{tie, ten}, 1, "EUR", from, 1299)
	require.Equal(t, [2]int64{1, 130}, [2]int64{id, off}, "equal: the lowest ID")
	id, off = best([]billing.Discount{fiveEUR, valid(fixed(6, 9999, "EUR"))}, 1, "EUR", from, 1299)
	require.Equal(t, [2]int64{6, 1299}, [2]int64{id, off}, "never below 0")

	// Validity edges: from is in, until is out.
	id, _ = best(all, 1, "GBP", from.Add(-time.Nanosecond), 1299)
	require.Zero(t, id, "not yet valid just before from")
	id, _ = best(all, 1, "GBP", until.Add(-time.Nanosecond), 1299)
	require.Equal(t, int64(1), id, "valid just before until")
	id, _ = best(all, 1, "GBP", until, 1299)
	require.Zero(t, id, "no longer valid at until")
	open := percent(8, 100)
	open.ValidFrom = from
	id, _ = best([]billing.Discount{open}, 1, "EUR", from.AddDate(50, 0, 0), 1299)
	require.Equal(t, int64(8), id, "no until: open-ended")
	id, _ = best(nil, 1, "EUR", from, 1299)
	require.Zero(t, id)
}

// TestDiscountInputValidate: either a percent of 1 to 10000 basis points or
// a positive amount up to MaxAmount with a valid currency; products listed
// once; until after from.
func TestDiscountInputValidate(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	bp := func(n int) *int { return &n }
	amt := func(n int64) *int64 { return &n }
	cur := func(s string) *string { return &s }
	at := func(tm time.Time) *time.Time { return &tm }
	for _, tc := range []struct {
		in    billing.DiscountInput
		field string // "" : valid
	}{
		{billing.DiscountInput{PercentBP: bp(1000)}, ""},
		{billing.DiscountInput{PercentBP: bp(10000)}, ""},
		{billing.DiscountInput{PercentBP: bp(1)}, ""},
		{billing.DiscountInput{Amount: amt(500), Currency: cur("EUR"), ProductIDs: []int64{1, 2}, ValidUntil: at(from.Add(time.Second))}, ""},
		{billing.DiscountInput{Amount: amt(billing.MaxAmount), Currency: cur("EUR")}, ""},
		{billing.DiscountInput{}, "percent_bp"},
		{billing.DiscountInput{PercentBP: bp(0)}, "percent_bp"},
		{billing.DiscountInput{PercentBP: bp(-5)}, "percent_bp"},
		{billing.DiscountInput{PercentBP: bp(10001)}, "percent_bp"},
		{billing.DiscountInput{PercentBP: bp(10), Amount: amt(5), Currency: cur("EUR")}, "percent_bp"},
		{billing.DiscountInput{PercentBP: bp(10), Currency: cur("EUR")}, "percent_bp"},
		{billing.DiscountInput{Amount: amt(0), Currency: cur("EUR")}, "amount"},
		{billing.DiscountInput{Amount: amt(-1), Currency: cur("EUR")}, "amount"},
		{billing.DiscountInput{Amount: amt(billing.MaxAmount + 1), Currency: cur("EUR")}, "amount"},
		{billing.DiscountInput{Amount: amt(5)}, "currency"},
		{billing.DiscountInput{Amount: amt(5), Currency: cur("EURO")}, "currency"},
		{billing.DiscountInput{PercentBP: bp(10), ProductIDs: []int64{3, 3}}, "product_ids"},
		{billing.DiscountInput{PercentBP: bp(10), ProductIDs: []int64{0}}, "product_ids"},
		{billing.DiscountInput{PercentBP: bp(10), ValidUntil: at(from)}, "valid_until"},
		{billing.DiscountInput{PercentBP: bp(10), ValidUntil: at(from.Add(-time.Hour))}, "valid_until"},
		{billing.DiscountInput{PercentBP: bp(10), Note: "a\x00b"}, "note"},
	} {
		err := tc.in.Validate(from)
		if tc.field == "" {
			require.NoError(t, err, "%+v", tc.in)
			continue
		}
		var be *billing.Error
		require.ErrorAs(t, err, &be, "%+v", tc.in)
		require.Equal(t, billing.EINVALID, be.Code)
		require.Contains(t, be.Fields, tc.field, "%+v: %v", tc.in, be.Fields)
	}
}
