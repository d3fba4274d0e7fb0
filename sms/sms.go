// Package sms sends text messages: through Twilio, or, for development
// without an account, into a log file.
package sms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Twilio sends through the Twilio Messages API.
type Twilio struct {
	client *twilio.RestClient
	from   string
}

// NewTwilio returns a Twilio sender. httpClient may be nil; tests pass one
// that points at a local fake.
func NewTwilio(accountSID, authToken, from string, httpClient *http.Client) *Twilio {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 20 * time.Second}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(accountSID, authToken), HTTPClient: httpClient}
	c.SetAccountSid(accountSID)
	params := twilio.ClientParams{Username: accountSID, Password: authToken, AccountSid: accountSID, Client: c}
	return &Twilio{client: twilio.NewRestClientWithParams(params), from: from}
}

// What a send's error means. Twilio can't recognise a message sent twice, so
// an SMS whose outcome is unknown is never sent again (at most once):
//   - nil: Twilio created the message;
//   - *RejectedError: Twilio refused it for good (a 4xx such as an invalid
//     number): sending it again won't help;
//   - *UnknownError: the request went out and no clear answer came back (the
//     connection dropped, a 5xx, an answer without a message SID, ctx ended):
//     Twilio may have created it;
//   - any other error: the request never reached Twilio (a refused
//     connection, a 429): send it again later.

// RejectedError is a message Twilio refused for good.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return "rejected: " + e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// UnknownError is a send whose outcome is unknown: Twilio may have the message.
type UnknownError struct{ Err error }

func (e *UnknownError) Error() string { return "outcome unknown: " + e.Err.Error() }
func (e *UnknownError) Unwrap() error { return e.Err }

// Send sends body to the number to and returns Twilio's message SID. twilio-go
// takes no context, so the call runs aside and Send returns when ctx ends
// (outcome unknown); the HTTP client's timeout ends the call itself.
func (t *Twilio) Send(ctx context.Context, to, body string) (string, error) {
	params := &twapi.CreateMessageParams{}
	params.SetTo(to)
	params.SetFrom(t.from)
	params.SetBody(body)
	type result struct {
		sid string
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := t.client.Api.CreateMessage(params)
		switch {
		case err != nil:
			done <- result{err: classify(err)}
		case res == nil || res.Sid == nil:
			done <- result{err: &UnknownError{Err: fmt.Errorf("twilio answered without a message SID")}}
		default:
			done <- result{sid: *res.Sid}
		}
	}()
	select {
	case r := <-done:
		return r.sid, r.err
	case <-ctx.Done():
		return "", &UnknownError{Err: ctx.Err()}
	}
}

// classify tells a refusal, an unknown outcome and a request that never
// reached Twilio apart.
func classify(err error) error {
	var rest *twclient.TwilioRestError
	var op *net.OpError
	switch {
	case errors.As(err, &rest) && rest.Status == http.StatusTooManyRequests:
		return err
	case errors.As(err, &rest) && rest.Status >= 400 && rest.Status < 500:
		return &RejectedError{Err: err}
	case errors.As(err, &rest):
		return &UnknownError{Err: err}
	case errors.As(err, &op) && op.Op == "dial":
		return err // never connected: nothing was sent
	}
	return &UnknownError{Err: err}
}

// Log appends each message to a file, for development without Twilio.
type Log struct {
	Path string
	mu   sync.Mutex
}

// Send appends a line for the message and returns a made-up ID.
func (l *Log) Send(_ context.Context, to, body string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(l.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	id := "log-" + rand.Text()[:12]
	_, err = fmt.Fprintf(f, "%s %s to %s: %q\n", time.Now().UTC().Format(time.RFC3339), id, to, body)
	return id, err
}
