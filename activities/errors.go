package activities

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
)

// ErrPermanentDatabase is the type of the non-retryable error an activity
// fails with on a database error that retrying can't fix.
const ErrPermanentDatabase = "PermanentDatabaseError"

// permanent says whether retrying can't fix err, and if so the type of the
// application error it becomes: the code of a *billing.Error (but internal
// and unavailable ones), or ErrPermanentDatabase for a PostgreSQL data
// exception (class 22) or integrity violation (23). Anything else may pass
// and stays retryable: lost connections (08), serialization failures
// (40001), deadlocks (40P01), an administrator's shutdown (57P01), a full
// server (53), timeouts, and a missing table or column (42), which is a
// worker started before its migration ran.
func permanent(err error) (errType string, ok bool) {
	var be *billing.Error
	if errors.As(err, &be) {
		return be.Code, be.Code != billing.EINTERNAL && be.Code != billing.EUNAVAILABLE
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) == 5 {
		switch pe.Code[:2] {
		case "22", "23":
			return ErrPermanentDatabase, true
		}
	}
	return "", false
}

// nonRetryableIfPermanent turns an error that retrying can't fix into a
// non-retryable application error, so the activity fails at once instead of
// retrying forever, and leaves others as they are.
func nonRetryableIfPermanent(err error) error {
	errType, ok := permanent(err)
	if !ok {
		return err
	}
	return permanentError(err, errType)
}

// permanentError is the non-retryable application error of type errType for
// err. A database error's text stays in the cause, for the workflow's
// history, and out of the message, which the API may show a client.
func permanentError(err error, errType string, details ...any) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("a database error that retrying can't fix (SQLSTATE %s)", pe.Code)
		return temporal.NewNonRetryableApplicationError(msg, errType, err, details...)
	}
	return temporal.NewNonRetryableApplicationError(billing.ErrorMessage(err), errType, nil, details...)
}

// Error types of charges that retrying can't fix: the workflow tells them
// apart to send the non-sufficient-funds or the declined notice. They are
// the domain's error codes, so that a refusal reaches the API as it is.
const (
	ErrInsufficientFunds = billing.EINSUFFICIENT
	ErrChargeDeclined    = billing.EDECLINED
)

// The types the same refusals had before they were error codes. Committed
// histories and running workflows carry them: the workflow and the client
// must go on reading them (see IsDeclined and workflows.Client).
const (
	LegacyInsufficientFunds = "InsufficientFunds"
	LegacyChargeDeclined    = "ChargeDeclined"
)

// IsDeclined says whether errType, the type of a refused charge's error, is
// ErrChargeDeclined, under its legacy name too; any other refusal is a lack
// of funds.
func IsDeclined(errType string) bool {
	return errType == ErrChargeDeclined || errType == LegacyChargeDeclined
}

// chargeError turns a refused charge into a non-retryable application error
// carrying details (the plan of a period charge), and leaves errors that may
// pass retryable. Lack of funds is ErrInsufficientFunds; anything else that
// retrying can't fix (a declined customer, the balance cap, a permanent
// database error) is ErrChargeDeclined, so the workflow waits for a payment
// or staff, as for any declined charge, instead of retrying forever. With
// codes false the types are the legacy ones (see ChargePeriodInput.ErrorCodes).
func chargeError(err error, details any, codes bool) error {
	var d []any
	if details != nil {
		d = append(d, details)
	}
	errType, ok := permanent(err)
	switch {
	case !ok:
		return err
	case errType == billing.EINSUFFICIENT && codes:
		return permanentError(err, ErrInsufficientFunds, d...)
	case errType == billing.EINSUFFICIENT:
		return permanentError(err, LegacyInsufficientFunds, d...)
	case codes:
		return permanentError(err, ErrChargeDeclined, d...)
	}
	return permanentError(err, LegacyChargeDeclined, d...)
}
