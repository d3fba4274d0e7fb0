package api

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestEveryCodeHasAStatus: the status map knows every error code.
func TestEveryCodeHasAStatus(t *testing.T) {
	t.Parallel()
	for _, code := range billing.Codes() {
		require.Contains(t, statusOf, code)
	}
}

// TestErrorBody: a known code keeps its status and message; an error without
// a code, or with a code the map does not know, is a 500 whose text is
// logged and not shown.
func TestErrorBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		logged  string
	}{
		{"known code", billing.Errorf(billing.ECONFLICT, "the service is cancelled"), http.StatusConflict, billing.ECONFLICT, "the service is cancelled", ""},
		{"wrapped known code", fmt.Errorf("act: %w", billing.Errorf(billing.EINSUFFICIENT, "short")), http.StatusConflict, billing.EINSUFFICIENT, "short", ""},
		{"unknown code", billing.Errorf("made_up", "secret detail"), http.StatusInternalServerError, billing.EINTERNAL, "internal error", `made_up`},
		{"no code", errors.New("secret detail"), http.StatusInternalServerError, billing.EINTERNAL, "internal error", "secret detail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
			c := echo.New().NewContext(httptest.NewRequest("POST", "/api/v1/subscriptions/1/cancel", nil), httptest.NewRecorder())
			status, body := s.errorBody(tc.err, c)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, body.Error.Code)
			require.Equal(t, tc.message, body.Error.Message)
			if tc.logged == "" {
				require.Empty(t, logs.String())
			} else {
				require.Contains(t, logs.String(), tc.logged)
			}
		})
	}
}
