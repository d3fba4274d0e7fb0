package api

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestBodyLimitOfUploads: the posts that carry a ticket message's files
// take up to 14 MiB (10 MiB of files in base64, and the message), every
// other route 1 MiB. (The ticket routes are registered here as stand-ins:
// the limit goes by the route's path.)
func TestBodyLimitOfUploads(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.Use(bodyLimit)
	read := func(c echo.Context) error {
		_, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	e.POST("/api/v1/tickets", read)
	e.POST("/api/v1/tickets/:id/messages", read)
	e.POST("/api/v1/customers", read)
	e.POST("/api/v1/tickets/:id/notes", read)
	for _, tc := range []struct {
		path   string
		size   int
		status int
	}{
		{"/api/v1/tickets", 14 << 20, http.StatusNoContent},
		{"/api/v1/tickets", 14<<20 + 1, http.StatusRequestEntityTooLarge},
		{"/api/v1/tickets/7/messages", 10 << 20 * 4 / 3, http.StatusNoContent},
		{"/api/v1/tickets/7/messages", 15 << 20, http.StatusRequestEntityTooLarge},
		{"/api/v1/customers", 1 << 20, http.StatusNoContent},
		{"/api/v1/customers", 1<<20 + 1, http.StatusRequestEntityTooLarge},
		{"/api/v1/tickets/7/notes", 2 << 20, http.StatusRequestEntityTooLarge},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, bytes.NewReader(make([]byte, tc.size))))
		require.Equal(t, tc.status, rec.Code, "%d bytes to %s", tc.size, tc.path)
	}
}
