package activities

import "github.com/tempobill/billing"

// Error types of charges that retrying can't fix: the workflow tells them
// apart to send the non-sufficient-funds or the declined notice.
const (
	ErrInsufficientFunds = "InsufficientFunds"
	ErrChargeDeclined    = "ChargeDeclined"
)

// chargeError turns a refused charge into a non-retryable application error
// carrying details (the plan of a period charge), and leaves errors that may
// pass retryable. Lack of funds is ErrInsufficientFunds; anything else that
// retrying can't fix (a declined customer, the balance cap, a permanent
// database error) is ErrChargeDeclined, so the workflow waits for a payment
// or staff, as for any declined charge, instead of retrying forever.
func chargeError(err error, details any) error {
	var d []any
	if details != nil {
		d = append(d, details)
	}
	errType, ok := permanent(err)
	switch {
	case !ok:
		return err
	case errType == billing.EINSUFFICIENT:
		return permanentError(err, ErrInsufficientFunds, d...)
	}
	return permanentError(err, ErrChargeDeclined, d...)
}
