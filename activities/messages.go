package activities

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// StartMessageInput starts sending a message to customers.
type StartMessageInput struct {
	MessageID int64
}

// StartMessageResult is how many users the message goes to.
type StartMessageResult struct {
	Total int
}

// StartMessage counts the users of the customers message goes to and
// records it as its total.
func (a *Activities) StartMessage(ctx context.Context, in StartMessageInput) (StartMessageResult, error) {
	defer heartbeat(ctx)()
	n, err := a.Store.StartMessage(ctx, in.MessageID)
	return StartMessageResult{Total: n}, nonRetryableIfPermanent(err)
}

// SendMessageBatchInput is one batch of a message to customers: whole
// customers after the customer After, in ID order, until Limit emails.
type SendMessageBatchInput struct {
	MessageID int64
	// After is the last customer the message was sent to (0: none yet).
	After int64
	// Limit is the number of emails after which the batch ends (a
	// customer's users are never split across batches).
	Limit int
	// Rate is the most emails a second the batch sends (0: no limit).
	Rate float64
}

// SendMessageBatchResult is what a batch did: Cursor is the last customer
// it finished; Done when no customer is left after it.
type SendMessageBatchResult struct {
	Cursor                                 int64
	Customers, Sent, AlreadySent, Deferred int
	Done                                   bool
}

// customerPage is how many customers a batch reads at a time.
const customerPage = 100

// SendMessageBatch sends a message to the users of the next customers, at
// most Rate emails a second, each at most once (the notification log's key
// is the message and the recipient: a retried batch finds the earlier sends
// and skips them). Its heartbeats carry its progress, so an attempt that
// replaces one whose worker died goes on from the last customer finished.
// A failed send is left to the redelivery, as for every event.
func (a *Activities) SendMessageBatch(ctx context.Context, in SendMessageBatchInput) (SendMessageBatchResult, error) {
	res := SendMessageBatchResult{Cursor: in.After}
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &res) // a new attempt: go on where the last one was
	}
	var mu sync.Mutex
	progress := func(update func()) SendMessageBatchResult {
		mu.Lock()
		defer mu.Unlock()
		if update != nil {
			update()
		}
		return res
	}
	defer heartbeatWith(ctx, func() any { return progress(nil) })()

	m, err := a.Store.Message(ctx, in.MessageID)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	target := storeTarget(m)
	vars := map[string]string{"[MESSAGE_SUBJECT]": m.Subject, "[MESSAGE_TEXT]": m.Text, "[CATEGORY]": m.Category}
	pace := newPacer(in.Rate)
	for {
		if res.Sent+res.AlreadySent+res.Deferred >= max(in.Limit, 1) {
			return res, nil
		}
		ids, err := a.Store.MessageCustomers(ctx, target, res.Cursor, customerPage)
		if err != nil {
			return res, nonRetryableIfPermanent(err)
		}
		if len(ids) == 0 {
			res.Done = true
			return res, nil
		}
		for _, cid := range ids {
			var sent, already, deferred int
			msgs, err := prepareEvent(ctx, a.Store, SendEventInput{Event: notices.EventMessage, CustomerID: cid,
				ObjectType: notices.ObjectMessage, ObjectID: strconv.FormatInt(m.ID, 10), Vars: vars}, a.DefaultLanguage)
			if err != nil && billing.ErrorCode(err) != billing.ENOTFOUND { // a customer gone since: skipped
				return res, nonRetryableIfPermanent(err)
			}
			for _, em := range msgs {
				if em.message.Channel != billing.ChannelEmail {
					continue // messages go by email: a text and files
				}
				if err := pace(ctx); err != nil {
					return res, err
				}
				status, err := a.claimAndDeliver(ctx, em.key, em.notice, em.message)
				switch {
				case err != nil:
					return res, err
				case status == billing.NoticeSent:
					sent++
				case status == "":
					already++
				default:
					deferred++
				}
			}
			progress(func() {
				res.Cursor, res.Customers = cid, res.Customers+1
				res.Sent, res.AlreadySent, res.Deferred = res.Sent+sent, res.AlreadySent+already, res.Deferred+deferred
			})
			if res.Sent+res.AlreadySent+res.Deferred >= max(in.Limit, 1) {
				break
			}
		}
	}
}

// FinishMessageInput ends a message's sending.
type FinishMessageInput struct {
	MessageID int64
	Cancelled bool
}

// FinishMessageResult is the message's final progress.
type FinishMessageResult struct {
	Status   string
	Progress billing.MessageProgress
}

// FinishMessage marks a message done, or cancelled: then the users it was
// not sent to count as skipped.
func (a *Activities) FinishMessage(ctx context.Context, in FinishMessageInput) (FinishMessageResult, error) {
	defer heartbeat(ctx)()
	status, skipped := billing.MessageDone, 0
	if in.Cancelled {
		m, err := a.Store.Message(ctx, in.MessageID)
		if err != nil {
			return FinishMessageResult{}, nonRetryableIfPermanent(err)
		}
		p := m.Progress
		status, skipped = billing.MessageCancelled, max(0, p.Total-p.Sent-p.Failed-p.Pending)
	}
	m, err := a.Store.FinishMessage(ctx, in.MessageID, status, skipped)
	if err != nil {
		return FinishMessageResult{}, nonRetryableIfPermanent(err)
	}
	return FinishMessageResult{Status: m.Status, Progress: m.Progress}, nil
}

// storeTarget is whom m goes to.
func storeTarget(m billing.Message) store.MessageTarget {
	return store.MessageTarget{CustomerID: m.CustomerID, Language: m.Language}
}

// attachments are the files that go with notice n's email: a message's, or
// an invoice's or credit note's PDF.
func (a *Activities) attachments(ctx context.Context, n billing.Notice) ([]mail.Attachment, error) {
	if files, ok, err := a.documentPDF(ctx, n); ok {
		return files, err
	}
	if n.ObjectType != notices.ObjectMessage || n.Channel != billing.ChannelEmail {
		return nil, nil
	}
	id, err := strconv.ParseInt(n.ObjectID, 10, 64)
	if err != nil {
		return nil, nil
	}
	files, err := a.Store.MessageAttachments(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []mail.Attachment
	for _, f := range files {
		out = append(out, mail.Attachment{Name: f.Name, ContentType: f.ContentType, Content: f.Content})
	}
	return out, nil
}

// newPacer returns a function that waits until the next send is due, so
// that at most rate sends start each second (none waits when rate is 0).
func newPacer(rate float64) func(ctx context.Context) error {
	if rate <= 0 {
		return func(ctx context.Context) error { return ctx.Err() }
	}
	interval := time.Duration(float64(time.Second) / rate)
	var next time.Time
	return func(ctx context.Context) error {
		now := time.Now()
		if wait := next.Sub(now); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
			now = next
		}
		next = now.Add(interval)
		return nil
	}
}
