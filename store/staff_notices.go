package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// StaffNotificationsOff returns the staff events staffID turned off (every
// other staff event is on).
func (s *Store) StaffNotificationsOff(ctx context.Context, staffID int64) (map[string]bool, error) {
	rows, err := s.q.StaffNotificationSettingList(ctx, staffID)
	if err != nil {
		return nil, dbError(err, "notification setting", staffID)
	}
	off := map[string]bool{}
	for _, r := range rows {
		if !r.Enabled {
			off[r.Event] = true
		}
	}
	return off, nil
}

// SetStaffNotifications turns staffID's events on or off, all or none. The
// caller checks the event names.
func (s *Store) SetStaffNotifications(ctx context.Context, staffID int64, events map[string]bool) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if _, err := q.StaffGet(ctx, staffID); err != nil {
			return dbError(err, "staff member", staffID)
		}
		for event, on := range events {
			if err := q.StaffNotificationSettingUpsert(ctx, dbsqlc.StaffNotificationSettingUpsertParams{StaffID: staffID,
				Event: event, Enabled: on}); err != nil {
				return err
			}
		}
		return nil
	}), "notification setting", staffID)
}

// StaffToNotify returns those of ids who get event's notices: active staff
// members who have not turned it off, in ID order (with their email and
// name only).
func (s *Store) StaffToNotify(ctx context.Context, event string, ids []int64) ([]billing.Staff, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.q.StaffToNotify(ctx, dbsqlc.StaffToNotifyParams{Ids: ids, Event: event})
	if err != nil {
		return nil, dbError(err, "staff member", "")
	}
	return fromRows(rows, func(r dbsqlc.StaffToNotifyRow) billing.Staff {
		return billing.Staff{ID: r.ID, Email: r.Email, Name: r.Name}
	}), nil
}

// TicketClientPosters returns the users who posted in ticketID.
func (s *Store) TicketClientPosters(ctx context.Context, ticketID int64) ([]int64, error) {
	ids, err := s.q.TicketClientPosters(ctx, ticketID)
	return ids, dbError(err, "ticket", ticketID)
}

// TicketAnsweredMail returns the Message-ID of the client's message that
// messageID answers (the latest client message up to it) if that one came
// by mail; "" if it came by the API or there is none.
func (s *Store) TicketAnsweredMail(ctx context.Context, ticketID, messageID int64) (string, error) {
	row, err := s.q.TicketAnsweredMessage(ctx, dbsqlc.TicketAnsweredMessageParams{TicketID: ticketID, BeforeID: messageID})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", dbError(err, "ticket", ticketID)
	}
	if row.MailMessageID == nil {
		return "", nil
	}
	return *row.MailMessageID, nil
}
