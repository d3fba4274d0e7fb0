package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// statusOf maps domain error codes to HTTP statuses: the one place that does.
var statusOf = map[string]int{
	billing.EINVALID:      http.StatusUnprocessableEntity,
	billing.EMALFORMED:    http.StatusBadRequest,
	billing.ENOTFOUND:     http.StatusNotFound,
	billing.ECONFLICT:     http.StatusConflict,
	billing.EUNAUTHORIZED: http.StatusUnauthorized,
	billing.EFORBIDDEN:    http.StatusForbidden,
	billing.ETOOMANY:      http.StatusTooManyRequests,
	billing.EUNAVAILABLE:  http.StatusServiceUnavailable,
	billing.EINTERNAL:     http.StatusInternalServerError,
	billing.EINSUFFICIENT: http.StatusConflict,
	billing.EDECLINED:     http.StatusConflict,

	billing.EMETHOD:          http.StatusMethodNotAllowed,
	billing.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	billing.EMEDIATYPE:       http.StatusUnsupportedMediaType,
	billing.EHEADERSTOOLARGE: http.StatusRequestHeaderFieldsTooLarge,
}

// codeOf maps the statuses of echo.HTTPErrors (Echo answers an unknown route,
// a wrong method and a body too large with them) back to error codes.
var codeOf = map[int]string{
	http.StatusNotFound:                    billing.ENOTFOUND,
	http.StatusMethodNotAllowed:            billing.EMETHOD,
	http.StatusRequestEntityTooLarge:       billing.ETOOLARGE,
	http.StatusUnsupportedMediaType:        billing.EMEDIATYPE,
	http.StatusRequestHeaderFieldsTooLarge: billing.EHEADERSTOOLARGE,
	http.StatusBadRequest:                  billing.EMALFORMED,
	http.StatusUnauthorized:                billing.EUNAUTHORIZED,
	http.StatusForbidden:                   billing.EFORBIDDEN,
	http.StatusTooManyRequests:             billing.ETOOMANY,
	http.StatusServiceUnavailable:          billing.EUNAVAILABLE,
}

// ErrorBody is the one JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong and, for invalid input, with which fields.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.errorBody(err, c)
	_ = c.JSON(status, body)
}

func (s *Server) errorBody(err error, c echo.Context) (int, ErrorBody) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeOf[he.Code]
		if !ok {
			code = billing.EINTERNAL
		}
		msg := http.StatusText(he.Code)
		switch he.Code {
		case http.StatusNotFound:
			msg = "no such route: " + method(c) + " " + c.Request().URL.Path
		case http.StatusMethodNotAllowed:
			msg = c.Request().URL.Path + " does not take " + method(c) + "; it takes " +
				strings.TrimPrefix(withHead(c.Response().Header().Get(echo.HeaderAllow)), "OPTIONS, ")
		case http.StatusRequestEntityTooLarge:
			msg = fmt.Sprintf("the request body is too large (at most %d MiB)", bodyLimitOf(c)>>20)
		}
		if code == billing.EINTERNAL {
			s.log.Error("http error", "status", he.Code, "err", he.Error(), "path", c.Path())
		}
		return he.Code, ErrorBody{ErrorDetail{Code: code, Message: msg}}
	}
	code := billing.ErrorCode(err)
	if _, ok := statusOf[code]; !ok {
		// A code without a status is a bug: a 500, logged, its text not shown.
		err = fmt.Errorf("error code %q has no HTTP status: %w", code, err)
		code = billing.EINTERNAL
	}
	if code == billing.EINTERNAL && store.Unreachable(err) {
		// A lost database connection is an outage, not a bug: 503, and it passes.
		err = &billing.Error{Code: billing.EUNAVAILABLE, Message: "the database can't be reached; nothing was changed, try again shortly", Cause: err}
		code = billing.EUNAVAILABLE
	}
	if code == billing.EUNAVAILABLE {
		s.log.Warn("dependency unavailable", "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	if code == billing.EINTERNAL {
		s.log.Error("internal error", "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	detail := ErrorDetail{Code: code, Message: "internal error"}
	var be *billing.Error
	if errors.As(err, &be) && be.Code == code {
		detail.Message, detail.Fields = be.Message, be.Fields
	}
	return statusOf[code], ErrorBody{detail}
}
