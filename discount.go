package billing

import (
	"fmt"
	"slices"
	"time"
)

// Discount kinds.
const (
	DiscountPercent = "percent"
	DiscountFixed   = "fixed"
)

// Discount lowers a customer's period charges: a percent of the price (in
// basis points: 1000 is 10%, 1250 is 12.5%) or a fixed amount in a
// currency, on all products (ProductIDs empty) or on the products listed,
// for periods that begin from ValidFrom until ValidUntil (exclusive; nil:
// open-ended). Ending one (EndedAt) sets ValidUntil to that moment and keeps
// it: the charges it lowered name it.
type Discount struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"`
	Kind       string     `json:"kind"`
	PercentBP  *int       `json:"percent_bp"`
	Amount     *int64     `json:"amount"`
	Currency   *string    `json:"currency"`
	ProductIDs []int64    `json:"product_ids"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	Note       string     `json:"note"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	EndedAt    *time.Time `json:"ended_at"`
}

// Off returns how much d takes off price (minor units, price >= 0): never
// more than price. A percent is rounded half up to the minor unit, in the
// customer's favour: 10% of 1299 is 129.9, so 130 off. Exact in integers
// for any price up to MaxInt64 (no product of price and percent is formed).
func (d Discount) Off(price int64) int64 {
	if price <= 0 {
		return 0
	}
	if d.PercentBP != nil {
		bp := int64(*d.PercentBP)
		q, r := price/10000, price%10000
		return min(q*bp+(r*bp+5000)/10000, price)
	}
	if d.Amount != nil {
		return min(*d.Amount, price)
	}
	return 0
}

// Applies reports whether d applies to a period of productID in currency
// that begins at at.
func (d Discount) Applies(productID int64, currency string, at time.Time) bool {
	return !at.Before(d.ValidFrom) && (d.ValidUntil == nil || at.Before(*d.ValidUntil)) &&
		(len(d.ProductIDs) == 0 || slices.Contains(d.ProductIDs, productID)) &&
		(d.PercentBP != nil || (d.Currency != nil && *d.Currency == currency))
}

// Label names d for a ledger reference and an invoice: "discount #4 10%",
// "discount #5 2.00 EUR".
func (d Discount) Label() string {
	if d.PercentBP != nil {
		bp := *d.PercentBP
		pct := fmt.Sprintf("%d", bp/100)
		switch {
		case bp%10 != 0:
			pct = fmt.Sprintf("%d.%02d", bp/100, bp%100)
		case bp%100 != 0:
			pct = fmt.Sprintf("%d.%d", bp/100, bp%100/10)
		}
		return fmt.Sprintf("discount #%d %s%%", d.ID, pct)
	}
	return fmt.Sprintf("discount #%d %s", d.ID, Money{Amount: *d.Amount, Currency: *d.Currency})
}

// BestDiscount chooses, of the discounts that apply to a period of productID
// in currency beginning at at, the one that gives the lowest price (the
// most off price); of equals, the lowest ID. ok is false if none applies.
// One discount applies, never several: they don't add up.
func BestDiscount(ds []Discount, productID int64, currency string, at time.Time, price int64) (best Discount, off int64, ok bool) {
	for _, d := range ds {
		if !d.Applies(productID, currency, at) {
			continue
		}
		o := d.Off(price)
		if !ok || o > off || (o == off && d.ID < best.ID) {
			best, off, ok = d, o, true
		}
	}
	return best, off, ok
}

// DiscountInput creates a discount or replaces its terms: either PercentBP
// (1 to 10000 basis points) or Amount and Currency. ValidFrom defaults to
// now on create and to the discount's own on replace.
type DiscountInput struct {
	PercentBP  *int       `json:"percent_bp"`
	Amount     *int64     `json:"amount"`
	Currency   *string    `json:"currency"`
	ProductIDs []int64    `json:"product_ids"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	Note       string     `json:"note"`
}

// MaxDiscountProducts bounds the product list of one discount.
const MaxDiscountProducts = 100

// Validate reports every invalid field of in; from is the validity start
// it will have (in.ValidFrom or its default).
func (in *DiscountInput) Validate(from time.Time) error {
	var v Validator
	switch {
	case in.PercentBP == nil && in.Amount == nil:
		v.Check(false, "percent_bp", "set either percent_bp (basis points: 1000 is 10%) or amount and currency")
	case in.PercentBP != nil && (in.Amount != nil || in.Currency != nil):
		v.Check(false, "percent_bp", "set either percent_bp or amount and currency, not both")
	case in.PercentBP != nil:
		v.Check(*in.PercentBP > 0 && *in.PercentBP <= 10000, "percent_bp",
			"must be from 1 to 10000 basis points (0.01% to 100%; 1000 is 10%)")
	default:
		v.Amount("amount", *in.Amount)
		v.Check(in.Currency != nil, "currency", "is required with amount")
		if in.Currency != nil {
			v.Currency("currency", *in.Currency)
		}
	}
	v.Check(len(in.ProductIDs) <= MaxDiscountProducts, "product_ids", fmt.Sprintf("must list at most %d products", MaxDiscountProducts))
	for i, id := range in.ProductIDs {
		v.Check(id > 0, "product_ids", "must be product IDs")
		v.Check(!slices.Contains(in.ProductIDs[:i], id), "product_ids", fmt.Sprintf("lists product %d twice", id))
	}
	if in.ValidUntil != nil {
		v.Check(in.ValidUntil.After(from), "valid_until", "must be after valid_from")
	}
	v.OptionalText("note", in.Note, 500)
	return v.Err()
}
