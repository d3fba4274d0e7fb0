// Package apitest checks the HTTP exchanges that tests make with the API
// against the OpenAPI document the API serves (api/openapi.json), so that the
// hand-kept document cannot drift from what the code answers.
//
// Every response is checked: its status must be documented for the operation
// (or fall under its default), its headers and body must match the document,
// and an object in the body may carry only the properties the document names
// (see Load). A request is checked too when the answer was a success (2xx):
// requests that tests send malformed on purpose are answered 4xx, and the API
// itself says what is wrong with them. An exchange on a path or method the
// document does not have must be an error in the one error shape.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tempobill/billing/api"
)

// Spec is a loaded OpenAPI document to check exchanges against. It is safe
// for concurrent use.
type Spec struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

var loadAPI = sync.OnceValues(func() (*Spec, error) { return Load(api.OpenAPIDocument()) })

// API returns the API's own document (the one embedded in the api package),
// loaded once per test binary.
func API() (*Spec, error) { return loadAPI() }

// A printable invoice is text/html, checked as a string; its PDF as a file,
// and so are the types a ticket's attachment is served as.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.RegisteredBodyDecoder("text/plain"))
	for _, t := range []string{"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "application/zip",
		"text/tab-separated-values", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/vnd.oasis.opendocument.text",
		"application/vnd.oasis.opendocument.spreadsheet", "application/vnd.oasis.opendocument.presentation"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
}

// Load loads and validates an OpenAPI document. Every object schema that
// names properties and says nothing about additionalProperties is closed
// (additionalProperties: false) for the checks: the document stays open for
// clients, but an answer with a field it does not describe fails the test.
// allOf of several object schemas is merged into one closed schema first, as
// closing each part would refuse the other parts' properties.
func Load(raw []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	closeDocument(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &Spec{doc: doc, router: router, opts: &openapi3filter.Options{
		// The API's own middleware checks tokens; the document only has to
		// declare the scheme.
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:             true, // an undocumented status is a mismatch
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
		MultiError:                        true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(), // the path and the reason, not the whole schema
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}}, nil
}

// Check checks one exchange: req was sent with reqBody (nil for none) and
// answered res, whose body was resBody. res.Body is not read.
func (s *Spec) Check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	err := s.check(req, reqBody, res, resBody)
	if err == nil {
		return nil
	}
	const max = 600
	body := string(resBody)
	if len(body) > max {
		body = body[:max] + "..."
	}
	return fmt.Errorf("OpenAPI document and API disagree on %s %s (answered %d): %w\nresponse body: %s",
		req.Method, req.URL.RequestURI(), res.StatusCode, err, body)
}

func (s *Spec) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	ctx := context.Background()
	head := req.Method == http.MethodHead
	if head && len(resBody) > 0 {
		return errors.New("a HEAD answer has a body")
	}
	find := req.Clone(ctx)
	if head {
		find.Method = http.MethodGet // HEAD is answered like GET; the document has only GET
	}
	route, params, err := s.router.FindRoute(find)
	if err != nil {
		// The router refuses what the document doesn't have; that refusal
		// must be an error in the one shape.
		if res.StatusCode < 400 {
			return fmt.Errorf("an operation that the document lacks answered %d: %w", res.StatusCode, err)
		}
		if head {
			return nil
		}
		return s.checkError(res, resBody)
	}
	op := route.Operation

	success := res.StatusCode >= 200 && res.StatusCode < 300
	if success && !head {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		if len(reqBody) == 0 {
			r.Body = http.NoBody
		}
		r.ContentLength = int64(len(reqBody))
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.opts}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the request does not match the document, yet it was answered %d: %w", res.StatusCode, err)
		}
	}

	doc := op.Responses.Status(res.StatusCode)
	if doc == nil {
		doc = op.Responses.Default()
	}
	if doc == nil || doc.Value == nil {
		return fmt.Errorf("status %d is not documented for %s %s", res.StatusCode, route.Method, route.Path)
	}
	if head {
		return nil
	}
	if len(doc.Value.Content) == 0 && len(resBody) > 0 {
		return fmt.Errorf("the document gives status %d of %s %s no body, yet one was sent (Content-Type %q)",
			res.StatusCode, route.Method, route.Path, res.Header.Get("Content-Type"))
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: s.opts},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                s.opts,
	}
	in.SetBodyBytes(resBody)
	return openapi3filter.ValidateResponse(ctx, in)
}

// checkError checks an answer of the router to a request the document has no
// operation for: JSON in the document's Error schema.
func (s *Spec) checkError(res *http.Response, body []byte) error {
	ref := s.doc.Components.Schemas["Error"]
	if ref == nil {
		return errors.New("the document has no Error schema")
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("an error answer of Content-Type %q", res.Header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("an error answer that is not JSON: %w", err)
	}
	return ref.Value.VisitJSON(v, append(slices.Clone(s.opts.SchemaValidationOptions), openapi3.VisitAsResponse(), openapi3.MultiErrors())...)
}

// Verify checks an exchange against the API's document and reports a
// mismatch as an error of t (with Error, not Fatal: it may be called from
// another goroutine than the test's).
func Verify(t testing.TB, req *http.Request, reqBody []byte, res *http.Response, resBody []byte) {
	t.Helper()
	spec, err := API()
	if err != nil {
		t.Error(err)
		return
	}
	if err := spec.Check(req, reqBody, res, resBody); err != nil {
		t.Error(strings.TrimSpace(err.Error()))
	}
}

// Transport is an http.RoundTripper that checks every exchange it carries
// (with Verify) before handing the response on; next carries them
// (http.DefaultTransport when nil). It lets code that takes an *http.Client,
// such as the bench's order helper, be checked in a test.
func Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return verifying{t: t, next: next}
}

type verifying struct {
	t    testing.TB
	next http.RoundTripper
}

func (v verifying) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	Verify(v.t, req, reqBody, res, resBody)
	return res, nil
}

// closeDocument closes the document's object schemas (see Load).
func closeDocument(doc *openapi3.T) {
	c := closer{seen: map[*openapi3.Schema]bool{}}
	if doc.Components != nil {
		for _, ref := range doc.Components.Schemas {
			c.schema(ref)
		}
		for _, ref := range doc.Components.Parameters {
			if ref.Value != nil {
				c.schema(ref.Value.Schema)
			}
		}
		for _, ref := range doc.Components.RequestBodies {
			if ref.Value != nil {
				c.content(ref.Value.Content)
			}
		}
		for _, ref := range doc.Components.Responses {
			c.response(ref)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, p := range item.Parameters {
			if p.Value != nil {
				c.schema(p.Value.Schema)
			}
		}
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil {
					c.schema(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				c.content(op.RequestBody.Value.Content)
			}
			for _, r := range op.Responses.Map() {
				c.response(r)
			}
		}
	}
}

type closer struct{ seen map[*openapi3.Schema]bool }

func (c closer) response(ref *openapi3.ResponseRef) {
	if ref == nil || ref.Value == nil {
		return
	}
	c.content(ref.Value.Content)
	for _, h := range ref.Value.Headers {
		if h.Value != nil {
			c.schema(h.Value.Schema)
		}
	}
}

func (c closer) content(content openapi3.Content) {
	for _, mt := range content {
		if mt != nil {
			c.schema(mt.Schema)
		}
	}
}

func (c closer) schema(ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || c.seen[ref.Value] {
		return
	}
	s := ref.Value
	c.seen[s] = true
	for _, p := range s.Properties {
		c.schema(p)
	}
	c.schema(s.Items)
	c.schema(s.AdditionalProperties.Schema)
	c.schema(s.Not)
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			c.schema(r)
		}
	}
	if len(s.AllOf) > 1 {
		merge(s)
	}
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties.Has = openapi3.Ptr(false)
	}
}

// merge turns an allOf of object schemas into one schema with all their
// properties. The parts, which other schemas may use too, are not changed.
func merge(s *openapi3.Schema) {
	props := openapi3.Schemas{}
	var required []string
	for _, part := range s.AllOf {
		p := part.Value
		if p == nil || len(p.AllOf) > 0 || len(p.AnyOf) > 0 || len(p.OneOf) > 0 || p.Not != nil ||
			(p.Type != nil && !p.Type.Is(openapi3.TypeObject)) {
			return // not a plain object part: leave the allOf as it is
		}
	}
	for _, part := range s.AllOf {
		for name, p := range part.Value.Properties {
			props[name] = p
		}
		required = append(required, part.Value.Required...)
	}
	for name, p := range s.Properties {
		props[name] = p
	}
	s.Properties = props
	s.Required = append(required, s.Required...)
	s.AllOf = nil
	if s.Type == nil {
		s.Type = &openapi3.Types{openapi3.TypeObject}
	}
}
