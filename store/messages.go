package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func messageFromRow(r dbsqlc.Message) billing.Message {
	return billing.Message{ID: r.ID, CustomerID: r.CustomerID, Language: r.Language, Category: r.Category,
		Subject: r.Subject, Text: r.Body, Rate: r.Rate, Status: r.Status, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		FinishedAt: r.FinishedAt, TextID: r.TextID, WorkflowID: billing.MessageWorkflowID(r.ID), Attachments: []billing.AttachmentInfo{},
		Progress: billing.MessageProgress{Total: r.Total, Skipped: r.Skipped}}
}

// MessageTarget is whom a message goes to, for the activities that send it.
type MessageTarget struct {
	CustomerID *int64
	Language   string
}

// CreateMessage records a message and its attachments, sent at rate
// messages a second, by staff member staffID (nil for an API key's owner
// unknown). One customer must be an active one.
func (s *Store) CreateMessage(ctx context.Context, in billing.MessageCreate, rate float64, staffID *int64) (billing.Message, error) {
	var m billing.Message
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if in.CustomerID != nil {
			if err := activeCustomer(ctx, q, *in.CustomerID); err != nil {
				return err
			}
		}
		if in.TextID != nil {
			if _, err := q.MessageTextKeep(ctx, *in.TextID); errors.Is(err, pgx.ErrNoRows) {
				return UnknownMessageText(*in.TextID)
			} else if err != nil {
				return err
			}
		}
		row, err := q.MessageInsert(ctx, dbsqlc.MessageInsertParams{CustomerID: in.CustomerID, Language: in.Language,
			Category: in.Category, Subject: in.Subject, Body: in.Text, Rate: rate, CreatedBy: staffID, TextID: in.TextID})
		if err != nil {
			return err
		}
		m = messageFromRow(row)
		for i, a := range in.Attachments {
			if err := q.MessageAttachmentInsert(ctx, dbsqlc.MessageAttachmentInsertParams{MessageID: m.ID, Position: i,
				Name: a.Name, ContentType: a.ContentType, Content: a.Content}); err != nil {
				return err
			}
			m.Attachments = append(m.Attachments, billing.AttachmentInfo{Name: a.Name, ContentType: a.ContentType, Size: len(a.Content)})
		}
		auditObject(ctx, "message", m.ID, 0)
		return nil
	})
	return m, dbError(err, "message", "")
}

// Message returns a message with its attachments (without their content)
// and its progress.
func (s *Store) Message(ctx context.Context, id int64) (billing.Message, error) {
	row, err := s.q.MessageGet(ctx, id)
	if err != nil {
		return billing.Message{}, dbError(err, "message", id)
	}
	ms := []billing.Message{messageFromRow(row)}
	if err := s.completeMessages(ctx, ms); err != nil {
		return billing.Message{}, err
	}
	return ms[0], nil
}

// Messages lists messages, newest first.
func (s *Store) Messages(ctx context.Context, f billing.MessageFilter) (billing.Page[billing.Message], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.MessageCount(ctx, f.Status)
	}, func(limit, offset int64) ([]billing.Message, error) {
		rows, err := s.q.MessageList(ctx, dbsqlc.MessageListParams{Status: f.Status, Limit: limit, Offset: offset})
		if err != nil {
			return nil, err
		}
		ms := fromRows(rows, messageFromRow)
		return ms, s.completeMessages(ctx, ms)
	})
	return p, dbError(err, "message", "")
}

// completeMessages adds attachments and the log's counts to ms.
func (s *Store) completeMessages(ctx context.Context, ms []billing.Message) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]int64, len(ms))
	at := map[int64]int{}
	for i, m := range ms {
		ids[i], at[m.ID] = m.ID, i
	}
	infos, err := s.q.MessageAttachmentInfos(ctx, ids)
	if err != nil {
		return err
	}
	for _, a := range infos {
		m := &ms[at[a.MessageID]]
		m.Attachments = append(m.Attachments, billing.AttachmentInfo{Name: a.Name, ContentType: a.ContentType, Size: a.Size})
	}
	for i := range ms {
		counts, err := s.q.MessageNoticeCounts(ctx, strconv.FormatInt(ms[i].ID, 10))
		if err != nil {
			return err
		}
		p := &ms[i].Progress
		for _, c := range counts {
			switch c.Status {
			case billing.NoticeSent:
				p.Sent += int(c.Count)
			case billing.NoticeQueued, billing.NoticeSending:
				p.Pending += int(c.Count)
			default: // failed and unknown are sent again; rejected and expired never
				p.Failed += int(c.Count)
			}
		}
	}
	return nil
}

// MessageTarget returns whom message id goes to.
func (s *Store) MessageTarget(ctx context.Context, id int64) (MessageTarget, error) {
	row, err := s.q.MessageGet(ctx, id)
	return MessageTarget{CustomerID: row.CustomerID, Language: row.Language}, dbError(err, "message", id)
}

// StartMessage counts the users of the customers message id goes to, and
// records it as the message's total.
func (s *Store) StartMessage(ctx context.Context, id int64) (int, error) {
	t, err := s.MessageTarget(ctx, id)
	if err != nil {
		return 0, err
	}
	n, err := s.q.MessageRecipientCount(ctx, dbsqlc.MessageRecipientCountParams{CustomerID: t.CustomerID, Language: t.Language})
	if err != nil {
		return 0, dbError(err, "message", id)
	}
	return int(n), dbError(s.q.MessageStart(ctx, dbsqlc.MessageStartParams{ID: id, Total: int(n)}), "message", id)
}

// MessageCustomers lists up to limit customers (IDs) that t goes to, after
// the customer after, in ID order.
func (s *Store) MessageCustomers(ctx context.Context, t MessageTarget, after int64, limit int) ([]int64, error) {
	ids, err := s.q.MessageCustomersAfter(ctx, dbsqlc.MessageCustomersAfterParams{After: after, CustomerID: t.CustomerID,
		Language: t.Language, Limit: int64(limit)})
	return ids, dbError(err, "customer", "")
}

// FinishMessage marks message id done or cancelled (status) and returns it;
// skipped counts the recipients a cancel kept it from. A message finished
// before is returned as it is.
func (s *Store) FinishMessage(ctx context.Context, id int64, status string, skipped int) (billing.Message, error) {
	_, err := s.q.MessageFinish(ctx, dbsqlc.MessageFinishParams{ID: id, Status: status, Skipped: skipped})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) { // no rows: finished before
		return billing.Message{}, dbError(err, "message", id)
	}
	return s.Message(ctx, id)
}

// MessageAttachments returns the files of message id, with their content.
func (s *Store) MessageAttachments(ctx context.Context, id int64) ([]billing.MessageAttachment, error) {
	rows, err := s.q.MessageAttachments(ctx, id)
	if err != nil {
		return nil, dbError(err, "message", id)
	}
	out := make([]billing.MessageAttachment, len(rows))
	for i, r := range rows {
		out[i] = billing.MessageAttachment{Name: r.Name, ContentType: r.ContentType, Content: r.Content}
	}
	return out, nil
}

// UnknownMessageText is the answer to a message sent from a saved text that
// does not exist: 422 naming text_id.
func UnknownMessageText(id int64) error {
	return &billing.Error{Code: billing.EINVALID, Message: fmt.Sprintf("there is no saved text %d", id),
		Fields: map[string]string{"text_id": "is not a saved text"}}
}

func messageTextFromRow(r dbsqlc.MessageText) billing.MessageText {
	return billing.MessageText{ID: r.ID, Name: r.Name, Category: r.Category, Subject: r.Subject, Text: r.Body,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateMessageText saves a text; a name taken answers 409 naming name.
func (s *Store) CreateMessageText(ctx context.Context, in billing.MessageTextInput) (billing.MessageText, error) {
	row, err := s.q.MessageTextInsert(ctx, dbsqlc.MessageTextInsertParams{Name: in.Name, Category: in.Category,
		Subject: in.Subject, Body: in.Text})
	if err == nil {
		auditObject(ctx, "message_text", row.ID, 0)
	}
	return messageTextFromRow(row), dbError(err, "message text", "")
}

// MessageText returns saved text id.
func (s *Store) MessageText(ctx context.Context, id int64) (billing.MessageText, error) {
	row, err := s.q.MessageTextGet(ctx, id)
	return messageTextFromRow(row), dbError(err, "message text", id)
}

// MessageTexts lists saved texts of category (empty: any) by name.
func (s *Store) MessageTexts(ctx context.Context, category string, pr billing.PageRequest) (billing.Page[billing.MessageText], error) {
	p, err := page(pr, func() (int64, error) {
		return s.q.MessageTextCount(ctx, category)
	}, func(limit, offset int64) ([]billing.MessageText, error) {
		rows, err := s.q.MessageTextList(ctx, dbsqlc.MessageTextListParams{Category: category, Limit: limit, Offset: offset})
		return fromRows(rows, messageTextFromRow), err
	})
	return p, dbError(err, "message text", "")
}

// UpdateMessageText replaces saved text id. Messages sent from it keep
// what they were sent with.
func (s *Store) UpdateMessageText(ctx context.Context, id int64, in billing.MessageTextInput) (billing.MessageText, error) {
	auditObject(ctx, "message_text", id, 0)
	row, err := s.q.MessageTextUpdate(ctx, dbsqlc.MessageTextUpdateParams{ID: id, Name: in.Name, Category: in.Category,
		Subject: in.Subject, Body: in.Text})
	return messageTextFromRow(row), dbError(err, "message text", id)
}

// DeleteMessageText deletes saved text id; the messages sent from it stay,
// with text_id null.
func (s *Store) DeleteMessageText(ctx context.Context, id int64) error {
	auditObject(ctx, "message_text", id, 0)
	n, err := s.q.MessageTextDelete(ctx, id)
	if err == nil && n == 0 {
		err = pgx.ErrNoRows
	}
	return dbError(err, "message text", id)
}
