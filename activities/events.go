package activities

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// SendEventInput sends one event (notices.Events) to a customer, outside a
// subscription's milestones: an account notice, a message from staff.
type SendEventInput struct {
	Event      string
	CustomerID int64
	// ObjectType and ObjectID name what it is about; by default the event's
	// object type and the customer.
	ObjectType string
	ObjectID   string
	// Key tells two sends about one object apart (a second activation link:
	// "2"); each (event, object, key, channel, recipient) is sent at most once.
	Key string
	// Vars are the values of the event's variables; the recipient's ([LOGIN],
	// [USER_NAME], [USER_LASTNAME]) and [CUSTOMER_NAME] are filled in.
	Vars map[string]string
	// UserIDs, if set, keeps the audience to these users of the customer.
	UserIDs []int64
	// RetryFor is how long a failed send is tried again (a day if 0).
	RetryFor time.Duration
}

// SendEventResult counts what happened; Deferred ones are sent again by
// the redelivery.
type SendEventResult struct {
	Sent, AlreadySent, Deferred int
}

// SendEvent sends in.Event to the customer's users its audience rule names
// (the main user, or all users), each in their language, by every channel
// the event has a template for, at most once per key: a retried activity
// finds the earlier sends. Like SendNotices it records every message in the
// notification log and leaves failures to the redelivery.
func (a *Activities) SendEvent(ctx context.Context, in SendEventInput) (SendEventResult, error) {
	defer heartbeat(ctx)()
	var res SendEventResult
	msgs, err := prepareEvent(ctx, a.Store, in, a.DefaultLanguage)
	if err != nil {
		return res, nonRetryableIfPermanent(err)
	}
	for _, m := range msgs {
		status, err := a.claimAndDeliver(ctx, m.key, m.notice, m.message)
		switch {
		case err != nil:
			return res, err
		case status == billing.NoticeSent:
			res.Sent++
		case status == "":
			res.AlreadySent++
		default:
			res.Deferred++
		}
	}
	return res, nil
}

// QueueEvent is SendEvent for callers outside a worker (an API handler):
// it records the messages as queued, at most once per key, and the
// redelivery schedule sends them within a minute. It returns the notices
// it queued (none for keys queued before).
func QueueEvent(ctx context.Context, st *store.Store, in SendEventInput, defaultLanguage string) ([]billing.Notice, error) {
	msgs, err := prepareEvent(ctx, st, in, defaultLanguage)
	if err != nil {
		return nil, err
	}
	var out []billing.Notice
	for _, m := range msgs {
		n, queued, err := st.QueueNotice(ctx, m.key, m.notice)
		if err != nil {
			return out, err
		}
		if queued {
			out = append(out, n)
		}
	}
	return out, nil
}

// eventMessage is one message of an event, with its notice and key.
type eventMessage struct {
	key     string
	notice  billing.Notice
	message notices.Message
}

// prepareEvent renders in's messages for its audience.
func prepareEvent(ctx context.Context, st *store.Store, in SendEventInput, fallbackLanguage string) ([]eventMessage, error) {
	e, err := notices.Lookup(in.Event)
	if err != nil {
		return nil, err
	}
	defLang, err := defaultLanguage(ctx, st, fallbackLanguage)
	if err != nil {
		return nil, err
	}
	if e.ProductTexts {
		return nil, billing.Errorf(billing.EINVALID, "the payment state %s is sent by its subscription's workflow", e.Name)
	}
	if e.Audience == notices.AudienceDepartment {
		return nil, billing.Errorf(billing.EINVALID, "the event %s goes to staff members: activities.QueueTicketNotices and QueueTaskCreated queue it", e.Name)
	}
	if e.Audience == notices.AudienceMailSender {
		return nil, billing.Errorf(billing.EINVALID, "the event %s goes to the sender of a mail: activities.QueueMailNotice queues it", e.Name)
	}
	cust, err := st.Customer(ctx, in.CustomerID)
	if err != nil {
		return nil, err
	}
	users, err := st.Users(ctx, in.CustomerID)
	if err != nil {
		return nil, err
	}
	ts, err := st.MessageTemplates(ctx)
	if err != nil {
		return nil, err
	}
	catalog := notices.Catalog{Custom: map[notices.TemplateKey]billing.MessageTemplate{}}
	for _, t := range ts {
		catalog.Custom[notices.Key(t)] = t
	}
	objType, objID := cmp.Or(in.ObjectType, e.ObjectType), cmp.Or(in.ObjectID, strconv.FormatInt(cust.ID, 10))
	until := time.Now().Add(cmp.Or(in.RetryFor, 24*time.Hour))
	var out []eventMessage
	for _, u := range Audience(e, users, in.UserIDs) {
		vars := maps.Clone(in.Vars)
		if vars == nil {
			vars = map[string]string{}
		}
		vars["[CUSTOMER_NAME]"] = cust.Name
		maps.Copy(vars, notices.UserValues(u))
		langs := notices.Languages(u.Language, cust.Language, defLang)
		for _, m := range catalog.Render(e.Name, u, langs, vars) {
			key := fmt.Sprintf("event:%s:%s:%s:%s:%s:%s", e.Name, objType, objID, in.Key, m.Channel, m.To)
			out = append(out, eventMessage{key: key, message: m, notice: billing.Notice{CustomerID: &cust.ID, Event: e.Name,
				ObjectType: objType, ObjectID: objID, RetryUntil: &until, Channel: m.Channel, Recipient: m.To,
				Language: m.Language, Template: m.Template, Subject: m.Subject, Body: m.Body, HTMLBody: m.HTMLBody,
				SenderName: m.SenderName, ReplyTo: m.ReplyTo}})
		}
	}
	return out, nil
}

// Audience returns the users of a customer that e goes to: the main user,
// or every user; only those of only, if any are named.
func Audience(e notices.Event, users []billing.User, only []int64) []billing.User {
	var out []billing.User
	for _, u := range users {
		if e.Audience == notices.AudienceMainUser && !u.Main {
			continue
		}
		if len(only) > 0 && !slices.Contains(only, u.ID) {
			continue
		}
		out = append(out, u)
	}
	return out
}
