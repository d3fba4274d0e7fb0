package store

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func payerFromRow(r dbsqlc.Payer) billing.Payer {
	return billing.Payer{ID: r.ID, CustomerID: r.CustomerID, Type: r.PayerType, LegalName: r.LegalName,
		ContactName: r.ContactName, Email: r.Email, Phone: r.Phone, Country: r.Country, Address: r.Address,
		TaxID: r.TaxID, RegistrationNumber: r.RegistrationNumber, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreatePayer adds a payer to an active customer.
func (s *Store) CreatePayer(ctx context.Context, customerID int64, in billing.PayerInput) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		row, err := q.PayerInsert(ctx, dbsqlc.PayerInsertParams{CustomerID: customerID, PayerType: in.Type,
			LegalName: in.LegalName, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone,
			Country: in.Country, Address: in.Address, TaxID: in.TaxID, RegistrationNumber: in.RegistrationNumber})
		p = payerFromRow(row)
		auditObject(ctx, "payer", p.ID, customerID)
		return err
	})
	return p, dbError(err, "payer", "")
}

// Payers lists the payers of a customer.
func (s *Store) Payers(ctx context.Context, customerID int64) ([]billing.Payer, error) {
	if _, err := s.Customer(ctx, customerID); err != nil {
		return nil, err
	}
	rows, err := s.q.PayerList(ctx, customerID)
	if err != nil {
		return nil, dbError(err, "payer", "")
	}
	return fromRows(rows, payerFromRow), nil
}

// Payer returns payer id of customer customerID.
func (s *Store) Payer(ctx context.Context, customerID, id int64) (billing.Payer, error) {
	row, err := s.q.PayerGet(ctx, dbsqlc.PayerGetParams{ID: id, CustomerID: customerID})
	return payerFromRow(row), dbError(err, "payer", id)
}

// UpdatePayer replaces the details of a payer.
func (s *Store) UpdatePayer(ctx context.Context, customerID, id int64, in billing.PayerInput) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		row, err := q.PayerUpdate(ctx, dbsqlc.PayerUpdateParams{ID: id, CustomerID: customerID, PayerType: in.Type,
			LegalName: in.LegalName, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone,
			Country: in.Country, Address: in.Address, TaxID: in.TaxID, RegistrationNumber: in.RegistrationNumber})
		p = payerFromRow(row)
		return dbError(err, "payer", id)
	})
	return p, dbError(err, "payer", id)
}

// DeletePayer removes a payer.
func (s *Store) DeletePayer(ctx context.Context, customerID, id int64) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		n, err := q.PayerDelete(ctx, dbsqlc.PayerDeleteParams{ID: id, CustomerID: customerID})
		if err == nil && n == 0 {
			return billing.NotFound("payer", id)
		}
		return err
	}), "payer", id)
}
