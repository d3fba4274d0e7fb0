package activities

import (
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
)

// Error types of charges that retrying can't fix: the workflow tells them
// apart to send the non-sufficient-funds or the declined notice.
const (
	ErrInsufficientFunds = "InsufficientFunds"
	ErrChargeDeclined    = "ChargeDeclined"
)

// chargeError turns a refused charge into a non-retryable application error
// carrying details (the plan of a period charge), and leaves others retryable.
func chargeError(err error, details any) error {
	var d []any
	if details != nil {
		d = append(d, details)
	}
	switch billing.ErrorCode(err) {
	case billing.EINSUFFICIENT:
		return temporal.NewNonRetryableApplicationError(billing.ErrorMessage(err), ErrInsufficientFunds, nil, d...)
	case billing.EDECLINED, billing.ENOTFOUND, billing.ECONFLICT, billing.EINVALID:
		return temporal.NewNonRetryableApplicationError(billing.ErrorMessage(err), ErrChargeDeclined, nil, d...)
	}
	return err
}
