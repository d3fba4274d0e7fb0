package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// bind decodes the JSON request body into dst strictly, as the OpenAPI
// document describes the operation's body: Content-Type application/json,
// names in their exact case, no name twice, null only where the document
// allows it, no unknown fields, no wrong types, no trailing data. Each
// problem is one a person can act on. An optional body may be left out;
// dst then keeps its zero value.
func bind(c echo.Context, dst any) error {
	r := c.Request()
	rb := requestBodies[r.Method+" "+c.Path()]
	if rb == nil {
		return fmt.Errorf("bind: the OpenAPI document gives %s %s no request body", r.Method, c.Path())
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if !rb.required {
			return nil
		}
		return billing.Errorf(billing.EMALFORMED, "the request body is empty; send a JSON object")
	}
	if err := jsonContentType(r); err != nil {
		return err
	}
	if err := validText(body); err != nil {
		return err
	}
	if err := checkBody(rb.schema, body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return decodeError(dec.Decode(dst))
}

// jsonContentType refuses a body that is not sent as application/json. A
// charset, if given, must be UTF-8, the only encoding of JSON.
func jsonContentType(r *http.Request) error {
	ct := r.Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == echo.MIMEApplicationJSON && (params["charset"] == "" || strings.EqualFold(params["charset"], "utf-8")) {
		return nil
	}
	if ct == "" {
		return billing.Errorf(billing.EMEDIATYPE, "the request body needs the header Content-Type: application/json")
	}
	return billing.Errorf(billing.EMEDIATYPE, "the request body must be JSON sent as Content-Type: application/json, not %q", ct)
}

// checkBody holds a body to its schema in the OpenAPI document: a JSON
// object, with the names and nulls that s allows, and nothing after it.
func checkBody(s *shape, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err)
	}
	if tok != json.Delim('{') {
		return billing.Errorf(billing.EMALFORMED, "the request body must be a JSON object, not %s", kind(tok))
	}
	var v billing.Validator
	if err := s.checkToken(tok, dec, "", &v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return billing.Errorf(billing.EMALFORMED, "the request body has data after the JSON object")
	}
	return v.Err()
}

// kind names the JSON value that starts with tok.
func kind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "true or false"
	}
	return "a number"
}

// decodeError turns an error of encoding/json into one a person can act on.
func decodeError(err error) error {
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

// refuseBody refuses a body sent to an operation that takes none, such as
// POST /payments/{id}/paid: whatever the caller meant by it would be ignored.
func refuseBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		rb, documented := requestBodies[r.Method+" "+c.Path()]
		if !documented || rb != nil || r.ContentLength == 0 {
			return next(c)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			return billing.Errorf(billing.EMALFORMED, "%s %s takes no request body; send none", method(c), r.URL.Path)
		}
		return next(c)
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
	if strings.HasPrefix(goType, "[]") { // before the dot: []billing.AttachmentUpload is an array
		return "an array"
	}
	if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
		return "an object"
	}
	return fmt.Sprintf("a %s", goType)
}

// pathID reads a positive integer path parameter. Anything else can't name an
// object, so it answers not found.
func pathID(c echo.Context, name, kind string) (int64, error) {
	raw := c.Param(name)
	id, ok := parseID(raw)
	if !ok {
		return 0, billing.NotFound(kind, raw)
	}
	return id, nil
}

// parseID reads an ID written the one way IDs are written: a positive
// decimal without sign, spaces or leading zeros, so "+1" and "01" are not 1.
func parseID(raw string) (int64, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatInt(id, 10) == raw
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
	n, ok := parseID(raw)
	q.v.Check(ok, name, "must be a positive whole number")
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

// validText refuses a body that is not valid UTF-8, or whose strings hold a
// \u escape of half a surrogate pair: Go's decoder would quietly turn both
// into U+FFFD, storing something the client did not send.
func validText(body []byte) error {
	if !utf8.Valid(body) {
		return billing.Errorf(billing.EMALFORMED, "the request body is not valid UTF-8")
	}
	lone := billing.Errorf(billing.EMALFORMED, "the request body has a \\u escape of half a UTF-16 surrogate pair; send the character itself or both halves")
	for i := 0; i+6 <= len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: not the start of \u
			continue
		}
		r := surrogate(body[i+2 : i+6])
		switch {
		case r >= 0xD800 && r < 0xDC00: // high: a low half must follow
			if i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
				return lone
			}
			if low := surrogate(body[i+8 : i+12]); low < 0xDC00 || low > 0xDFFF {
				return lone
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return lone
		default:
			i += 5
		}
	}
	return nil
}

// surrogate reads four hex digits (-1 if they aren't).
func surrogate(hex []byte) int {
	n, err := strconv.ParseUint(string(hex), 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}
