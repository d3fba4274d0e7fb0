package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/tempobill/billing"
)

// requestBodies holds what each operation of the OpenAPI document takes, by
// route as Echo names it ("PATCH /api/v1/customers/:id"): nil for an
// operation that takes no body. bind holds bodies to it, so that a request
// the document doesn't allow is refused even where Go's decoder would take it
// (keys in another case, a key twice, null for a field that can't be null).
var requestBodies = mustRequestBodies(openAPIDoc)

// requestBody is an operation's request body.
type requestBody struct {
	required bool
	schema   *shape
}

// shape is what a JSON schema says that Go's decoder does not check, or
// checks without saying which field is wrong: the exact property names of
// objects, where null is allowed, and the formats byte (base64) and
// date-time of strings. Types and ranges are left to decoding and
// validation. A nil *shape allows anything.
type shape struct {
	nullable bool
	props    map[string]*shape // the documented properties of an object
	closed   bool              // additionalProperties: false
	values   *shape            // additionalProperties given as a schema: the values of a map
	items    *shape            // the items of an array
	format   string            // of a string: "byte" or "date-time" are checked
}

func mustRequestBodies(doc []byte) map[string]*requestBody {
	bodies, err := compileRequestBodies(doc)
	if err != nil {
		panic("api: openapi.json: " + err.Error())
	}
	return bodies
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func compileRequestBodies(doc []byte) (map[string]*requestBody, error) {
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	c := compiler{schemas: d.Components.Schemas, done: map[string]*shape{}}
	out := map[string]*requestBody{}
	for path, ops := range d.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				RequestBody *struct {
					Required bool                      `json:"required"`
					Content  map[string]map[string]any `json:"content"`
				} `json:"requestBody"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			route := strings.ToUpper(method) + " " + pathParam.ReplaceAllString(path, ":$1")
			out[route] = nil
			if op.RequestBody == nil {
				continue
			}
			media, ok := op.RequestBody.Content["application/json"]
			if !ok || len(op.RequestBody.Content) != 1 {
				return nil, fmt.Errorf("%s: a request body must be application/json only", route)
			}
			schema, _ := media["schema"].(map[string]any)
			s, err := c.shape(schema)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", route, err)
			}
			out[route] = &requestBody{required: op.RequestBody.Required, schema: s}
		}
	}
	return out, nil
}

// compiler turns the schemas of request bodies into shapes, each named
// schema once.
type compiler struct {
	schemas map[string]map[string]any
	done    map[string]*shape
}

func (c *compiler) shape(s map[string]any) (*shape, error) {
	if s == nil {
		return nil, fmt.Errorf("a schema is missing")
	}
	if ref, ok := s["$ref"].(string); ok {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || c.schemas[name] == nil {
			return nil, fmt.Errorf("unknown $ref %q", ref)
		}
		if sh, ok := c.done[name]; ok {
			return sh, nil
		}
		sh := &shape{}
		c.done[name] = sh // before compiling, so that a schema may refer to itself
		compiled, err := c.shape(c.schemas[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		*sh = *compiled
		return sh, nil
	}
	for _, k := range []string{"oneOf", "anyOf", "not"} {
		if _, ok := s[k]; ok {
			return nil, fmt.Errorf("%s in a request body is not supported by bind", k)
		}
	}
	out := &shape{props: map[string]*shape{}}
	out.nullable, _ = s["nullable"].(bool)
	all, _ := s["allOf"].([]any)
	for _, sub := range all {
		m, _ := sub.(map[string]any)
		sh, err := c.shape(m)
		if err != nil {
			return nil, err
		}
		for name, p := range sh.props {
			out.props[name] = p
		}
		out.closed = out.closed || sh.closed
		if sh.items != nil {
			out.items = sh.items
		}
	}
	props, _ := s["properties"].(map[string]any)
	for name, p := range props {
		m, _ := p.(map[string]any)
		sh, err := c.shape(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out.props[name] = sh
	}
	if ap, ok := s["additionalProperties"].(bool); ok && !ap {
		out.closed = true
	}
	if ap, ok := s["additionalProperties"].(map[string]any); ok {
		sh, err := c.shape(ap)
		if err != nil {
			return nil, fmt.Errorf("additionalProperties: %w", err)
		}
		out.values = sh
	}
	out.format, _ = s["format"].(string)
	// Go's decoder matches names in any case; only a closed object has its
	// names checked here, so every documented object must be closed.
	if len(props) > 0 && !out.closed {
		return nil, fmt.Errorf("an object with properties needs additionalProperties: false")
	}
	if items, ok := s["items"].(map[string]any); ok {
		sh, err := c.shape(items)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		out.items = sh
	}
	return out, nil
}

// check reads one JSON value from dec and records in v, by field, every key
// that s does not document (names are case-sensitive), every key given
// twice, and every null where s allows none. It returns syntax errors.
func (s *shape) check(dec *json.Decoder, field string, v *billing.Validator) error {
	tok, err := token(dec)
	if err != nil {
		return err
	}
	return s.checkToken(tok, dec, field, v)
}

// checkToken is check of the value that starts with tok, already read.
func (s *shape) checkToken(tok json.Token, dec *json.Decoder, field string, v *billing.Validator) error {
	if _, str := tok.(string); s != nil && formats[s.format] != "" && !str && tok != nil {
		v.Check(false, field, formats[s.format]+", not "+kind(tok))
	}
	switch tok {
	case nil:
		v.Check(s == nil || s.nullable, field, "must not be null")
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			tok, err := token(dec)
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			name := key
			if field != "" {
				name = field + "." + key
			}
			v.Check(!seen[key], name, "is given more than once")
			seen[key] = true
			var sub *shape
			if s != nil {
				var known bool
				if sub, known = s.props[key]; !known && s.closed {
					v.Check(false, name, s.unknown(key))
				}
				if !known && s.values != nil {
					sub = s.values
				}
			}
			if err := sub.check(dec, name, v); err != nil {
				return err
			}
		}
		_, err := token(dec) // the closing delimiter
		return err
	case json.Delim('['):
		var items *shape
		if s != nil {
			items = s.items
		}
		for i := 0; dec.More(); i++ {
			if err := items.check(dec, fmt.Sprintf("%s[%d]", field, i), v); err != nil {
				return err
			}
		}
		_, err := token(dec) // the closing delimiter
		return err
	}
	if str, ok := tok.(string); ok && s != nil {
		s.checkFormat(str, field, v)
	}
	return nil
}

// checkFormat records in v a string that is not in the format s gives it.
// Go's decoder would refuse most of them too, but without naming the field,
// and in its own words ("illegal base64 data at input byte 3"); base64 with
// line breaks it takes, though the document's format does not.
func (s *shape) checkFormat(str, field string, v *billing.Validator) {
	var err error
	switch s.format {
	case "byte":
		// Go's decoder skips line breaks; the document's format doesn't.
		if _, err = base64.StdEncoding.DecodeString(str); err == nil && strings.ContainsAny(str, "\r\n") {
			err = errors.New("line breaks")
		}
	case "date-time":
		_, err = time.Parse(time.RFC3339, str)
	}
	v.Check(err == nil, field, formats[s.format])
}

// formats says what the checked formats of strings look like.
var formats = map[string]string{
	"byte":      "must be base64 (the standard alphabet, padded with =, no line breaks: base64 -w0), such as aGVsbG8=",
	"date-time": "must be a date and time in RFC 3339 form such as 2026-01-31T00:00:00Z",
}

// unknown says what is wrong with an undocumented key.
func (s *shape) unknown(key string) string {
	for name := range s.props {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf("is not a known field; names are case-sensitive: did you mean %q?", name)
		}
	}
	return "is not a known field"
}

// token is dec.Token with the end of the input inside a value reported as
// such, not as the end of a well-formed input.
func token(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}
