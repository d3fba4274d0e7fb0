package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// bind decodes the JSON request body into dst strictly: unknown fields, wrong
// types and trailing data are errors a person can act on.
func bind(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return billing.Errorf(billing.EMALFORMED, "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil && dec.More() {
		return billing.Errorf(billing.EMALFORMED, "the request body has data after the JSON object")
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return billing.Errorf(billing.EMALFORMED, "the request body is not valid JSON (at byte %d): %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return billing.Errorf(billing.EMALFORMED, "the request body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return billing.Errorf(billing.EMALFORMED, "the request body must be a JSON object, not %s", typ.Value)
		}
		return &billing.Error{Code: billing.EINVALID, Message: "some fields have the wrong type; see fields",
			Fields: map[string]string{typ.Field: "must be " + describe(typ.Type.String()) + ", not " + typ.Value}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &billing.Error{Code: billing.EINVALID, Message: "the request has a field this endpoint does not know; see fields",
			Fields: map[string]string{field: "is not a known field"}}
	default:
		return billing.Errorf(billing.EMALFORMED, "the request body can't be read as JSON: %v", err)
	}
}

func describe(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "int", "int64", "int32":
		return "a whole number within range"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "time.Time":
		return "a date and time in RFC 3339 form"
	}
	if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
		return "an object"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return fmt.Sprintf("a %s", goType)
}

// pathID reads a positive integer path parameter. Anything else can't name an
// object, so it answers not found.
func pathID(c echo.Context, name, kind string) (int64, error) {
	raw := c.Param(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, billing.NotFound(kind, raw)
	}
	return id, nil
}

// nestedIDs reads the customer's :id and the ID of one of its objects.
func nestedIDs(c echo.Context, param, kind string) (customerID, id int64, err error) {
	if customerID, err = pathID(c, "id", "customer"); err != nil {
		return 0, 0, err
	}
	id, err = pathID(c, param, kind)
	return customerID, id, err
}

// query reads optional query parameters, collecting every problem.
type query struct {
	c echo.Context
	v billing.Validator
}

func (q *query) int(name string, min, max int) int {
	raw := q.c.QueryParam(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	q.v.Check(err == nil && n >= min && n <= max, name, fmt.Sprintf("must be a whole number from %d to %d", min, max))
	return n
}

// page reads limit (1 to 200) and offset.
func (q *query) page() billing.PageRequest {
	return billing.PageRequest{Limit: q.int("limit", 1, 200), Offset: q.int("offset", 0, 1<<30)}
}

func (q *query) id(name string) *int64 {
	raw := q.c.QueryParam(name)
	if raw == "" {
		return nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	q.v.Check(err == nil && n > 0, name, "must be a positive whole number")
	return &n
}

func (q *query) bool(name string) *bool {
	raw := q.c.QueryParam(name)
	if raw == "" {
		return nil
	}
	b, err := strconv.ParseBool(raw)
	q.v.Check(err == nil, name, "must be true or false")
	return &b
}

func (q *query) text(name string, max int) string {
	raw := q.c.QueryParam(name)
	q.v.OptionalText(name, raw, max)
	return raw
}

func (q *query) oneOf(name string, allowed ...string) string {
	raw := q.c.QueryParam(name)
	if raw != "" {
		q.v.OneOf(name, raw, allowed...)
	}
	return raw
}

func (q *query) time(name string) *time.Time {
	raw := q.c.QueryParam(name)
	if raw == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	q.v.Check(err == nil, name, "must be a date and time in RFC 3339 form such as 2026-01-31T00:00:00Z")
	return &t
}
