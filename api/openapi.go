package api

import (
	"bytes"
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc describes every route of routes(); a test keeps the two in step.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIDocument returns the OpenAPI document (JSON) that the API serves at
// /api/v1/openapi.json; tests check requests and responses against it.
func OpenAPIDocument() []byte { return bytes.Clone(openAPIDoc) }

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
