package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tempobill/billing"
)

// MaxHeaderBytes is the most that a request's line and headers may take;
// more answers 431 in the JSON error shape. The http.Server that serves the
// API must allow more than this in its own MaxHeaderBytes: above that limit
// net/http answers 431 itself, in plain text, before the API sees the request.
const MaxHeaderBytes = 64 << 10

// limitHeaders answers 431 to a request whose line and headers pass
// MaxHeaderBytes.
func limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		n := len(r.Method) + len(r.URL.RequestURI()) + len(r.Proto) + len(r.Host) + len("  \r\nHost: \r\n\r\n")
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + len(": \r\n")
			}
		}
		if n > MaxHeaderBytes {
			return billing.Errorf(billing.EHEADERSTOOLARGE, "the request line and headers take %d bytes, more than the %d allowed", n, MaxHeaderBytes)
		}
		return next(c)
	}
}

// headKey marks a HEAD request that goes through the router as GET.
type headKey struct{}

// headAsGet lets every GET route answer HEAD. Echo routes HEAD only where it
// is registered, so HEAD goes through as GET. The answer is GET's: net/http,
// which still sees the HEAD, sends its status and headers and drops the body.
func headAsGet(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	get := r.WithContext(context.WithValue(r.Context(), headKey{}, true))
	get.Method = http.MethodGet
	return get
}

// method is the request's method as the caller sent it.
func method(c echo.Context) string {
	if head, _ := c.Request().Context().Value(headKey{}).(bool); head {
		return http.MethodHead
	}
	return c.Request().Method
}

// allowHead lists HEAD beside GET in the Allow header of a 405 or an
// OPTIONS answer, since headAsGet answers it.
func allowHead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		c.Response().Before(func() {
			if allow := h.Get(echo.HeaderAllow); allow != "" {
				h.Set(echo.HeaderAllow, withHead(allow))
			}
		})
		return next(c)
	}
}

// withHead adds HEAD after GET to a list of methods such as "OPTIONS, GET, POST".
func withHead(allow string) string {
	methods := strings.Split(allow, ", ")
	for i, m := range methods {
		if m == http.MethodHead {
			return allow
		}
		if m == http.MethodGet {
			methods = append(methods[:i+1], append([]string{http.MethodHead}, methods[i+1:]...)...)
			return strings.Join(methods, ", ")
		}
	}
	return allow
}

// Request body limits: 1 MiB, but the posts that carry a ticket message's
// files (up to 10 MiB, base64 in JSON: about 13.4 MiB) take 14 MiB.
const (
	MaxBodyBytes       = 1 << 20
	MaxUploadBodyBytes = 14 << 20
)

// uploadRoutes are the routes that take MaxUploadBodyBytes.
var uploadRoutes = map[string]bool{
	"POST /api/v1/tickets":              true,
	"POST /api/v1/tickets/:id/messages": true,
}

// bodyLimitOf is the body limit of the route of c.
func bodyLimitOf(c echo.Context) int64 {
	if uploadRoutes[c.Request().Method+" "+c.Path()] {
		return MaxUploadBodyBytes
	}
	return MaxBodyBytes
}

// bodyLimit answers 413 (too_large) to a body over its route's limit.
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	// "MiB": echo reads "1M" as 1,000,000 bytes.
	small, large := middleware.BodyLimit("1MiB")(next), middleware.BodyLimit("14MiB")(next)
	return func(c echo.Context) error {
		if bodyLimitOf(c) == MaxUploadBodyBytes {
			return large(c)
		}
		return small(c)
	}
}
