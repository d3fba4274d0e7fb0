package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func discountFromRow(r dbsqlc.Discount) billing.Discount {
	d := billing.Discount{ID: r.ID, CustomerID: r.CustomerID, Kind: billing.DiscountFixed, PercentBP: r.PercentBp,
		Amount: r.Amount, Currency: r.Currency, ProductIDs: r.ProductIds, ValidFrom: r.ValidFrom,
		ValidUntil: r.ValidUntil, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, EndedAt: r.EndedAt}
	if r.PercentBp != nil {
		d.Kind = billing.DiscountPercent
	}
	if d.ProductIDs == nil {
		d.ProductIDs = []int64{}
	}
	return d
}

// checkProducts refuses a list that names a product that doesn't exist.
func checkProducts(ctx context.Context, q *dbsqlc.Queries, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	missing, err := q.ProductsMissing(ctx, ids)
	if err != nil || len(missing) == 0 {
		return err
	}
	names := make([]string, len(missing))
	for i, id := range missing {
		names[i] = fmt.Sprint(id)
	}
	return &billing.Error{Code: billing.EINVALID, Message: "some fields are invalid; see fields",
		Fields: map[string]string{"product_ids": "no such product: " + strings.Join(names, ", ")}}
}

// CreateDiscount gives an active customer a discount. It is valid from
// in.ValidFrom, or from now.
func (s *Store) CreateDiscount(ctx context.Context, customerID int64, in billing.DiscountInput) (billing.Discount, error) {
	from := time.Now().UTC()
	if in.ValidFrom != nil {
		from = *in.ValidFrom
	}
	if err := in.Validate(from); err != nil {
		return billing.Discount{}, err
	}
	var d billing.Discount
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		if err := checkProducts(ctx, q, in.ProductIDs); err != nil {
			return err
		}
		row, err := q.DiscountInsert(ctx, dbsqlc.DiscountInsertParams{CustomerID: customerID, PercentBp: in.PercentBP,
			Amount: in.Amount, Currency: in.Currency, ProductIds: nonNil(in.ProductIDs), ValidFrom: from,
			ValidUntil: in.ValidUntil, Note: in.Note})
		d = discountFromRow(row)
		auditObject(ctx, "discount", d.ID, customerID)
		return err
	})
	return d, dbError(err, "discount", "")
}

// Discounts lists a customer's discounts, ended ones too, oldest first.
func (s *Store) Discounts(ctx context.Context, customerID int64) ([]billing.Discount, error) {
	if _, err := s.Customer(ctx, customerID); err != nil {
		return nil, err
	}
	rows, err := s.q.DiscountList(ctx, customerID)
	if err != nil {
		return nil, dbError(err, "discount", "")
	}
	return fromRows(rows, discountFromRow), nil
}

// Discount returns discount id of customer customerID.
func (s *Store) Discount(ctx context.Context, customerID, id int64) (billing.Discount, error) {
	row, err := s.q.DiscountGet(ctx, dbsqlc.DiscountGetParams{ID: id, CustomerID: customerID})
	return discountFromRow(row), dbError(err, "discount", id)
}

// UpdateDiscount replaces the terms of a discount that has not ended. A
// charge already made keeps what it was charged; periods charged from now
// on get the new terms.
func (s *Store) UpdateDiscount(ctx context.Context, customerID, id int64, in billing.DiscountInput) (billing.Discount, error) {
	var d billing.Discount
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		old, err := q.DiscountGetForUpdate(ctx, dbsqlc.DiscountGetForUpdateParams{ID: id, CustomerID: customerID})
		if err != nil {
			return err
		}
		if old.EndedAt != nil {
			return billing.Errorf(billing.ECONFLICT, "discount %d has ended and no longer changes; create a new one", id)
		}
		from := old.ValidFrom
		if in.ValidFrom != nil {
			from = *in.ValidFrom
		}
		if err := in.Validate(from); err != nil {
			return err
		}
		if err := checkProducts(ctx, q, in.ProductIDs); err != nil {
			return err
		}
		row, err := q.DiscountUpdate(ctx, dbsqlc.DiscountUpdateParams{ID: id, CustomerID: customerID, PercentBp: in.PercentBP,
			Amount: in.Amount, Currency: in.Currency, ProductIds: nonNil(in.ProductIDs), ValidFrom: from,
			ValidUntil: in.ValidUntil, Note: in.Note})
		d = discountFromRow(row)
		return err
	})
	return d, dbError(err, "discount", id)
}

// EndDiscount ends a discount now: periods that begin from now on don't get
// it; those that began before still do, so a charge retried later applies
// what its first attempt would have. The row stays, since charges name it.
// Ending an ended discount is a conflict.
func (s *Store) EndDiscount(ctx context.Context, customerID, id int64) (billing.Discount, error) {
	var d billing.Discount
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		old, err := q.DiscountGetForUpdate(ctx, dbsqlc.DiscountGetForUpdateParams{ID: id, CustomerID: customerID})
		if err != nil {
			return err
		}
		if old.EndedAt != nil {
			return billing.Errorf(billing.ECONFLICT, "discount %d has already ended", id)
		}
		row, err := q.DiscountEnd(ctx, dbsqlc.DiscountEndParams{ID: id, CustomerID: customerID})
		d = discountFromRow(row)
		return err
	})
	return d, dbError(err, "discount", id)
}

// AppliedDiscount is the discount a period charge was made with.
type AppliedDiscount struct {
	Discount billing.Discount
	// Off is what it took off the price, in the charge's currency.
	Off int64
}

// discountFor chooses the discount of a period of productID at price in
// currency that begins at from (billing.BestDiscount), nil if none applies.
func discountFor(ctx context.Context, q *dbsqlc.Queries, customerID, productID int64, currency string, from time.Time, price int64) (*AppliedDiscount, error) {
	rows, err := q.DiscountsValidAt(ctx, dbsqlc.DiscountsValidAtParams{CustomerID: customerID, At: from,
		ProductID: productID, Currency: currency})
	if err != nil {
		return nil, err
	}
	d, off, ok := billing.BestDiscount(fromRows(rows, discountFromRow), productID, currency, from, price)
	if !ok {
		return nil, nil
	}
	return &AppliedDiscount{Discount: d, Off: off}, nil
}

// DiscountedPrice is price (of productID, in currency) for a period of the
// customer's that begins at from, after the discount a charge of that
// period would apply now.
func (s *Store) DiscountedPrice(ctx context.Context, customerID, productID int64, currency string, from time.Time, price int64) (int64, error) {
	d, err := discountFor(ctx, s.q, customerID, productID, currency, from, price)
	if err != nil || d == nil {
		return price, dbError(err, "discount", "")
	}
	return price - d.Off, nil
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
