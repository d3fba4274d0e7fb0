package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
)

// TestNonRetryableIfPermanent: errors that retrying can't fix end the
// activity's retries with a typed application error; passing ones, such as
// a lost connection or a serialization failure, stay retryable.
func TestNonRetryableIfPermanent(t *testing.T) {
	t.Parallel()
	pg := func(code string) error {
		return fmt.Errorf("store: balance: %w", &pgconn.PgError{Code: code, Message: "boom"})
	}
	for _, tc := range []struct {
		name    string
		err     error
		errType string // "" for retryable
	}{
		{"numeric value out of range", pg("22003"), ErrPermanentDatabase},
		{"division by zero", pg("22012"), ErrPermanentDatabase},
		{"foreign key violation", pg("23503"), ErrPermanentDatabase},
		{"check violation", pg("23514"), ErrPermanentDatabase},
		{"undefined column: a worker ahead of its migration", pg("42703"), ""},
		{"undefined table", pg("42P01"), ""},
		{"invalid", billing.Errorf(billing.EINVALID, "the balance cap"), billing.EINVALID},
		{"not found", billing.NotFound("subscription", 7), billing.ENOTFOUND},
		{"serialization failure", pg("40001"), ""},
		{"deadlock", pg("40P01"), ""},
		{"admin shutdown", pg("57P01"), ""},
		{"connection failure", pg("08006"), ""},
		{"too many connections", pg("53300"), ""},
		{"query canceled", pg("57014"), ""},
		{"unreachable server", fmt.Errorf("store: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), ""},
		{"deadline", context.DeadlineExceeded, ""},
		{"unavailable", billing.Errorf(billing.EUNAVAILABLE, "try again"), ""},
		{"internal", errors.New("something else"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := nonRetryableIfPermanent(tc.err)
			var appErr *temporal.ApplicationError
			if tc.errType == "" {
				require.Equal(t, tc.err, got, "stays retryable as it was")
				return
			}
			require.ErrorAs(t, got, &appErr)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tc.errType, appErr.Type())
			if tc.errType == ErrPermanentDatabase {
				require.NotContains(t, appErr.Message(), "boom", "the database's text stays out of the message")
				var pe *pgconn.PgError
				require.ErrorAs(t, got, &pe, "and in the cause")
			}
		})
	}
	require.NoError(t, nonRetryableIfPermanent(nil))
}

// TestChargeError: a charge that retrying can't fix is refused with a type
// the workflow knows; one that may pass is retried.
func TestChargeError(t *testing.T) {
	t.Parallel()
	plan := Plan{ProductID: 3, Price: 250, Currency: "EUR"}
	for _, tc := range []struct {
		name    string
		err     error
		codes   bool
		errType string // "" for retryable
	}{
		{"insufficient funds", billing.Errorf(billing.EINSUFFICIENT, "short"), true, ErrInsufficientFunds},
		{"declined", billing.Errorf(billing.EDECLINED, "deleted"), true, ErrChargeDeclined},
		{"balance cap", billing.Errorf(billing.EINVALID, "the balance cap"), true, ErrChargeDeclined},
		{"out of range", &pgconn.PgError{Code: "22003"}, true, ErrChargeDeclined},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true, ""},
		{"lost connection", errors.New("unexpected EOF"), true, ""},
		// For workflow code from before the codes: the types it knows.
		{"insufficient funds, legacy", billing.Errorf(billing.EINSUFFICIENT, "short"), false, LegacyInsufficientFunds},
		{"declined, legacy", billing.Errorf(billing.EDECLINED, "deleted"), false, LegacyChargeDeclined},
		{"out of range, legacy", &pgconn.PgError{Code: "22003"}, false, LegacyChargeDeclined},
		{"lost connection, legacy", errors.New("unexpected EOF"), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := chargeError(tc.err, plan, tc.codes)
			if tc.errType == "" {
				require.Equal(t, tc.err, got)
				return
			}
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, got, &appErr)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tc.errType, appErr.Type())
			var details Plan
			require.NoError(t, appErr.Details(&details))
			require.Equal(t, plan, details)
		})
	}
}
