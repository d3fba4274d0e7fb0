package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func payerFromRow(r dbsqlc.Payer) billing.Payer {
	return billing.Payer{ID: r.ID, CustomerID: r.CustomerID, Type: r.PayerType, LegalName: r.LegalName,
		ContactName: r.ContactName, Email: r.Email, Phone: r.Phone, Country: r.Country, Address: r.Address,
		TaxID: r.TaxID, RegistrationNumber: r.RegistrationNumber, Verification: r.Verification, VerifiedAt: r.VerifiedAt,
		VerificationComment: r.VerificationComment, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
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

// UpdatePayer replaces the details of a payer. A change of who the payer is
// (billing.PayerInput.ChangesIdentity) ends its verification, whatever its state:
// the payer is unverified again, its unused links no longer work, and
// unverified reports it (a verification was of the old details).
func (s *Store) UpdatePayer(ctx context.Context, customerID, id int64, in billing.PayerInput) (p billing.Payer, unverified bool, err error) {
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		old, err := q.PayerGetForUpdate(ctx, dbsqlc.PayerGetForUpdateParams{ID: id, CustomerID: customerID})
		if err != nil {
			return err
		}
		row, err := q.PayerUpdate(ctx, dbsqlc.PayerUpdateParams{ID: id, CustomerID: customerID, PayerType: in.Type,
			LegalName: in.LegalName, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone,
			Country: in.Country, Address: in.Address, TaxID: in.TaxID, RegistrationNumber: in.RegistrationNumber})
		if err != nil {
			return err
		}
		p = payerFromRow(row)
		if old.Verification == billing.PayerUnverified || !in.ChangesIdentity(payerFromRow(old)) {
			return nil
		}
		if err := q.PayerVerificationRetire(ctx, id); err != nil {
			return err
		}
		row, err = q.PayerSetVerification(ctx, dbsqlc.PayerSetVerificationParams{ID: id, Verification: billing.PayerUnverified})
		p, unverified = payerFromRow(row), true
		return err
	})
	return p, unverified, dbError(err, "payer", id)
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

// StartPayerVerification stores a one-time link (its SHA-256 hash) that
// confirms payer id until expires, and marks the payer pending unless it is
// verified already.
func (s *Store) StartPayerVerification(ctx context.Context, customerID, id int64, tokenHash []byte, expires time.Time) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.PayerGetForUpdate(ctx, dbsqlc.PayerGetForUpdateParams{ID: id, CustomerID: customerID})
		if err != nil {
			return err
		}
		p = payerFromRow(row)
		if p.Verification == billing.PayerVerified {
			return nil
		}
		if err := q.PayerVerificationInsert(ctx, dbsqlc.PayerVerificationInsertParams{PayerID: id, TokenHash: tokenHash, ExpiresAt: expires}); err != nil {
			return err
		}
		row, err = q.PayerSetVerification(ctx, dbsqlc.PayerSetVerificationParams{ID: id, Verification: billing.PayerPending})
		p = payerFromRow(row)
		return err
	})
	return p, dbError(err, "payer", id)
}

// ConfirmPayer marks verified the payer whose one-time link has the hash
// tokenHash, and uses the link up. An unknown link is not found; a used or
// expired one a conflict.
func (s *Store) ConfirmPayer(ctx context.Context, tokenHash []byte) (billing.Payer, error) {
	var p billing.Payer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		v, err := q.PayerVerificationGetForUpdate(ctx, tokenHash)
		if errors.Is(err, pgx.ErrNoRows) {
			return billing.Errorf(billing.ENOTFOUND, "this verification link is unknown; ask for a new one")
		}
		if err != nil {
			return err
		}
		switch {
		case v.UsedAt != nil:
			return billing.Errorf(billing.ECONFLICT, "this verification link was used already")
		case !time.Now().Before(v.ExpiresAt):
			return billing.Errorf(billing.ECONFLICT, "this verification link expired at %s; ask for a new one", v.ExpiresAt.UTC().Format(time.RFC3339))
		}
		row, err := q.PayerGetByID(ctx, v.PayerID)
		if err != nil {
			return err
		}
		if err := activeCustomer(ctx, q, row.CustomerID); err != nil {
			return err
		}
		// Staff's decision (verified, or more information asked for)
		// stands: the link no longer decides anything.
		if row.Verification != billing.PayerPending {
			return billing.Errorf(billing.ECONFLICT, "this verification link no longer applies: the payer is %s", row.Verification)
		}
		if err := q.PayerVerificationUse(ctx, v.ID); err != nil {
			return err
		}
		row, err = q.PayerSetVerification(ctx, dbsqlc.PayerSetVerificationParams{ID: v.PayerID, Verification: billing.PayerVerified})
		p = payerFromRow(row)
		auditObject(ctx, "payer", p.ID, p.CustomerID)
		return err
	})
	return p, dbError(err, "payer", "")
}

// VerifyPayer records staff's decision on a payer of an active customer. It
// returns the payer and, for a request for information, its number (1 for
// the first), which keys its notice.
func (s *Store) VerifyPayer(ctx context.Context, customerID, id int64, in billing.PayerVerify) (billing.Payer, int, error) {
	var p billing.Payer
	var n int
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		if _, err := q.PayerGetForUpdate(ctx, dbsqlc.PayerGetForUpdateParams{ID: id, CustomerID: customerID}); err != nil {
			return err
		}
		state := billing.PayerVerified
		if in.RequestInfo {
			state = billing.PayerInfoRequested
		}
		row, err := q.PayerSetVerification(ctx, dbsqlc.PayerSetVerificationParams{ID: id, Verification: state,
			VerificationComment: in.Comment})
		p, n = payerFromRow(row), row.InfoRequests
		return err
	})
	return p, n, dbError(err, "payer", id)
}
