package inbound

import (
	"errors"
	"fmt"
)

// ErrMalformed is what a mail that cannot be read as MIME fails with
// (errors.Is); the *Error says why in words for the "Incoming emails" list.
var ErrMalformed = errors.New("malformed mail")

// ErrTooLarge is what a mail over its Limits fails with (errors.Is).
var ErrTooLarge = errors.New("mail over the limits")

// errParserPanic marks a panic recovered inside Parse: a bug here, never the
// sender's fault, so the fuzz test fails on it.
var errParserPanic = errors.New("parser failure")

// Error is why Parse refused a mail. Reason is a sentence a person can read
// ("attachment \"scan.pdf\" is 12.0 MB, over the 10.0 MB limit"); errors.Is
// tells ErrMalformed from ErrTooLarge.
type Error struct {
	Reason string
	kind   error
	err    error
}

func (e *Error) Error() string { return e.Reason }

// Is reports whether target is the kind of e (ErrMalformed or ErrTooLarge).
func (e *Error) Is(target error) bool { return target == e.kind }

// Unwrap returns the library error behind e, if any.
func (e *Error) Unwrap() error { return e.err }

func malformed(err error, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), kind: ErrMalformed, err: err}
}

func tooLarge(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), kind: ErrTooLarge}
}
