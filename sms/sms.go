// Package sms sends text messages: through Twilio, or, for development
// without an account, into a log file.
package sms

import (
	"context"
	"crypto/rand"
	"fmt"
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
	params := twilio.ClientParams{Username: accountSID, Password: authToken, AccountSid: accountSID}
	if httpClient != nil {
		c := &twclient.Client{Credentials: twclient.NewCredentials(accountSID, authToken), HTTPClient: httpClient}
		c.SetAccountSid(accountSID)
		params.Client = c
	}
	return &Twilio{client: twilio.NewRestClientWithParams(params), from: from}
}

// Send sends body to the number to and returns Twilio's message SID.
func (t *Twilio) Send(_ context.Context, to, body string) (string, error) {
	params := &twapi.CreateMessageParams{}
	params.SetTo(to)
	params.SetFrom(t.from)
	params.SetBody(body)
	res, err := t.client.Api.CreateMessage(params)
	if err != nil {
		return "", err
	}
	if res.Sid == nil {
		return "", fmt.Errorf("twilio answered without a message SID")
	}
	return *res.Sid, nil
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
