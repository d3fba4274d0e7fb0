package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const payerColumns = `id, customer_id, payer_type, legal_name, contact_name, email, phone,
	country, address, tax_id, registration_number, created_at, updated_at`

func scanPayer(row pgx.Row) (billing.Payer, error) {
	var p billing.Payer
	err := row.Scan(&p.ID, &p.CustomerID, &p.Type, &p.LegalName, &p.ContactName, &p.Email,
		&p.Phone, &p.Country, &p.Address, &p.TaxID, &p.RegistrationNumber, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// CreatePayer adds a payer to an active customer.
func (s *Store) CreatePayer(ctx context.Context, customerID int64, in billing.PayerInput) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		p, err = scanPayer(tx.QueryRow(ctx, `INSERT INTO payers (customer_id, payer_type,
			legal_name, contact_name, email, phone, country, address, tax_id, registration_number)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+payerColumns,
			customerID, in.Type, in.LegalName, in.ContactName, in.Email, in.Phone, in.Country,
			in.Address, in.TaxID, in.RegistrationNumber))
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
	rows, err := s.pool.Query(ctx, `SELECT `+payerColumns+` FROM payers WHERE customer_id = $1 ORDER BY id`, customerID)
	if err != nil {
		return nil, dbError(err, "payer", "")
	}
	payers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Payer, error) { return scanPayer(r) })
	if payers == nil {
		payers = []billing.Payer{}
	}
	return payers, dbError(err, "payer", "")
}

// Payer returns payer id of customer customerID.
func (s *Store) Payer(ctx context.Context, customerID, id int64) (billing.Payer, error) {
	p, err := scanPayer(s.pool.QueryRow(ctx, `SELECT `+payerColumns+` FROM payers
		WHERE id = $1 AND customer_id = $2`, id, customerID))
	return p, dbError(err, "payer", id)
}

// UpdatePayer replaces the details of a payer.
func (s *Store) UpdatePayer(ctx context.Context, customerID, id int64, in billing.PayerInput) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		p, err = scanPayer(tx.QueryRow(ctx, `UPDATE payers SET payer_type = $3, legal_name = $4,
			contact_name = $5, email = $6, phone = $7, country = $8, address = $9, tax_id = $10,
			registration_number = $11, updated_at = now()
			WHERE id = $1 AND customer_id = $2 RETURNING `+payerColumns, id, customerID, in.Type,
			in.LegalName, in.ContactName, in.Email, in.Phone, in.Country, in.Address, in.TaxID,
			in.RegistrationNumber))
		return dbError(err, "payer", id)
	})
	return p, dbError(err, "payer", id)
}

// DeletePayer removes a payer.
func (s *Store) DeletePayer(ctx context.Context, customerID, id int64) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM payers WHERE id = $1 AND customer_id = $2`, id, customerID)
		if err == nil && tag.RowsAffected() == 0 {
			return billing.NotFound("payer", id)
		}
		return err
	}), "payer", id)
}
