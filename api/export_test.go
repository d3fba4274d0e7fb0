package api

import (
	"context"
	"time"

	"github.com/tempobill/billing/store"
)

// SetFirstLockout lengthens the wait after the free failed sign-ins of s,
// so that a test of the count can't be outwaited by a slow machine.
func SetFirstLockout(s *Server, d time.Duration) { s.firstLockout = d }

// MailNotice is one gateway notice queued through activities.QueueMailNotice.
type MailNotice struct {
	Event, To, Key string
	Vars           map[string]string
}

// WatchMailNotices calls seen with every gateway notice s queues, after
// queueing it as usual.
func WatchMailNotices(s *Server, seen func(MailNotice)) {
	next := s.queueMailNotice
	s.queueMailNotice = func(ctx context.Context, tx *store.Store, event, to, key string, vars map[string]string, lang string) error {
		if err := next(ctx, tx, event, to, key, vars, lang); err != nil {
			return err
		}
		seen(MailNotice{Event: event, To: to, Key: key, Vars: vars})
		return nil
	}
}
