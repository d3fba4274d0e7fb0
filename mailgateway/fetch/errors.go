package fetch

import (
	"errors"
	"fmt"
)

// ErrNotFound: the message is not (or no longer) in the mailbox, or its ID
// belongs to another UIDVALIDITY (the IMAP mailbox was recreated).
var ErrNotFound = errors.New("fetch: message not found")

// ErrAuth wraps a refused login; the error's text carries the server's
// reply, e.g. "fetch: imap login: ...: Authentication failed.".
var ErrAuth = errors.New("login refused")

// TooLargeError: Fetch found the message bigger than its limit and did not
// load it. The gateway reports it (and may mark it processed) instead.
type TooLargeError struct {
	ID    string
	Size  int64 // as far as known: the server's size, or > Limit
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("fetch: message %s is %d octets, over the limit of %d", e.ID, e.Size, e.Limit)
}

// authError wraps ErrAuth around the server's words.
func authError(proto string, err error) error {
	return fmt.Errorf("fetch: %s login: %w: %v", proto, ErrAuth, err)
}
