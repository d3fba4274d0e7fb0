// Package billing holds the domain types of the billing system: customers,
// products, money, the ledger and payments, and the errors every layer shares.
package billing

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Error codes. The API maps each one to an HTTP status in one place.
const (
	ECONFLICT     = "conflict"           // a duplicate or a state that forbids the action (409)
	EINTERNAL     = "internal"           // a bug or an outage; details are logged, not shown (500)
	EINVALID      = "invalid"            // input that fails validation (422)
	EMALFORMED    = "malformed"          // a body that is not the JSON we expect (400)
	ENOTFOUND     = "not_found"          // an unknown ID (404)
	EUNAUTHORIZED = "unauthorized"       // no or bad credentials (401)
	EFORBIDDEN    = "forbidden"          // authenticated but not allowed (403)
	ETOOMANY      = "too_many"           // slowed down (429)
	EUNAVAILABLE  = "unavailable"        // a dependency is down (503)
	EINSUFFICIENT = "insufficient_funds" // a charge refused for lack of funds (409)
	EDECLINED     = "declined"           // a charge refused for another reason: a customer not active, the balance cap (409)

	// Codes of the HTTP layer: a request's method, size or media type, not its content.
	EMETHOD          = "method_not_allowed"     // a route that exists, with another method (405)
	ETOOLARGE        = "too_large"              // a body over the limit (413)
	EMEDIATYPE       = "unsupported_media_type" // a body that is not application/json (415)
	EHEADERSTOOLARGE = "headers_too_large"      // request line and headers over the limit (431)
)

// Codes returns every error code, those of refused charges (EINSUFFICIENT,
// EDECLINED) too. Activities and workflows fail with them as the types of
// Temporal application errors, so that a code crosses Temporal unchanged.
func Codes() []string {
	return []string{ECONFLICT, EINTERNAL, EINVALID, EMALFORMED, ENOTFOUND, EUNAUTHORIZED, EFORBIDDEN, ETOOMANY,
		EUNAVAILABLE, EMETHOD, ETOOLARGE, EMEDIATYPE, EHEADERSTOOLARGE, EINSUFFICIENT, EDECLINED}
}

// IsCode says whether s is one of the error codes.
func IsCode(s string) bool { return slices.Contains(Codes(), s) }

// Error is an error a person can act on: a code, a message, and for invalid
// input the offending fields with what is wrong with each.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Cause, if set, is the underlying error, for logs only: it is never
	// shown to the caller.
	Cause error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the error for an unknown object, e.g. NotFound("customer", 42).
func NotFound(kind string, id any) *Error {
	return Errorf(ENOTFOUND, "%s %v not found", kind, id)
}

// ErrorCode returns the code of err if it is an *Error, "" for nil, else EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err if it is an *Error, else a generic one
// so that internal details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

func fmtID(id any) string {
	return fmt.Sprint(id)
}
