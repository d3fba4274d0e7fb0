package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/store/dbsqlc"
)

// mailGatewayFromRow converts a row; the password stays sealed (Password "").
func mailGatewayFromRow(r dbsqlc.MailGateway) billing.MailGateway {
	return billing.MailGateway{ID: r.ID, Name: r.Name, Type: r.Type, Protocol: r.Protocol, Host: r.Host, Port: r.Port,
		Security: r.Security, Login: r.Login, Address: r.Address, DepartmentID: r.DepartmentID, PollSeconds: r.PollSeconds,
		AfterProcessing: r.AfterProcessing, MaxMessageBytes: r.MaxMessageBytes, Paused: r.Paused, LastPollAt: r.LastPollAt,
		LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// noKey is the answer to a password that must be sealed without a key.
func noKey() error {
	return billing.Errorf(billing.EUNAVAILABLE, "%s; set it (32 random bytes in base64, e.g. `openssl rand -base64 32`) and restart", secret.ErrNoKey)
}

// gatewayDepartment checks, in the transaction, that the gateway's
// department exists, as a field error.
func gatewayDepartment(ctx context.Context, q *dbsqlc.Queries, id int64) error {
	if _, err := q.DepartmentGet(ctx, id); err != nil {
		if be := dbError(err, "department", id); billing.ErrorCode(be) == billing.ENOTFOUND {
			return &billing.Error{Code: billing.EINVALID, Message: "the department does not exist; see fields",
				Fields: map[string]string{"department_id": "is not a department"}}
		}
		return err
	}
	return nil
}

// CreateMailGateway adds a gateway, its password sealed with key; without
// a key it is refused.
func (s *Store) CreateMailGateway(ctx context.Context, in billing.MailGatewayInput, key *secret.Key) (billing.MailGateway, error) {
	g, err := in.Apply(billing.NewMailGateway(), true)
	if err != nil {
		return g, err
	}
	if key == nil {
		return g, noKey()
	}
	nonce, sealed, err := key.Seal(g.Password)
	if err != nil {
		return g, err
	}
	var out billing.MailGateway
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := gatewayDepartment(ctx, q, g.DepartmentID); err != nil {
			return err
		}
		row, err := q.MailGatewayInsert(ctx, dbsqlc.MailGatewayInsertParams{Name: g.Name, Type: g.Type, Protocol: g.Protocol,
			Host: g.Host, Port: g.Port, Security: g.Security, Login: g.Login, PasswordNonce: nonce, PasswordSealed: sealed,
			Address: g.Address, DepartmentID: g.DepartmentID, PollSeconds: g.PollSeconds, AfterProcessing: g.AfterProcessing,
			MaxMessageBytes: g.MaxMessageBytes, Paused: g.Paused})
		out = mailGatewayFromRow(row)
		if err == nil {
			auditObject(ctx, "mail_gateway", out.ID, 0)
		}
		return err
	})
	return out, dbError(err, "mail gateway", "")
}

// MailGateway returns a gateway without its password.
func (s *Store) MailGateway(ctx context.Context, id int64) (billing.MailGateway, error) {
	row, err := s.q.MailGatewayGet(ctx, id)
	return mailGatewayFromRow(row), dbError(err, "mail gateway", id)
}

// MailGatewayWithPassword returns a gateway with its password opened with
// key: for the poll and the connection test only.
func (s *Store) MailGatewayWithPassword(ctx context.Context, id int64, key *secret.Key) (billing.MailGateway, error) {
	row, err := s.q.MailGatewayGet(ctx, id)
	if err != nil {
		return billing.MailGateway{}, dbError(err, "mail gateway", id)
	}
	g := mailGatewayFromRow(row)
	if g.Password, err = key.Open(row.PasswordNonce, row.PasswordSealed); err != nil {
		if errors.Is(err, secret.ErrNoKey) {
			return g, noKey()
		}
		return g, billing.Errorf(billing.ECONFLICT, "%s", err)
	}
	return g, nil
}

// MailGateways lists the gateways by name, without passwords.
func (s *Store) MailGateways(ctx context.Context) ([]billing.MailGateway, error) {
	rows, err := s.q.MailGatewayList(ctx)
	out := make([]billing.MailGateway, len(rows))
	for i, r := range rows {
		out[i] = mailGatewayFromRow(r)
	}
	return out, dbError(err, "mail gateway", "")
}

// UpdateMailGateway applies in to gateway id; a new password is sealed
// with key, without one the stored password stays.
func (s *Store) UpdateMailGateway(ctx context.Context, id int64, in billing.MailGatewayInput, key *secret.Key) (billing.MailGateway, error) {
	var out billing.MailGateway
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.MailGatewayLock(ctx, id)
		if err != nil {
			return dbError(err, "mail gateway", id)
		}
		g, err := in.Apply(mailGatewayFromRow(row), false)
		if err != nil {
			return err
		}
		nonce, sealed := row.PasswordNonce, row.PasswordSealed
		if in.Password != nil {
			if key == nil {
				return noKey()
			}
			if nonce, sealed, err = key.Seal(g.Password); err != nil {
				return err
			}
		}
		if g.DepartmentID != row.DepartmentID {
			if err := gatewayDepartment(ctx, q, g.DepartmentID); err != nil {
				return err
			}
		}
		row, err = q.MailGatewayUpdate(ctx, dbsqlc.MailGatewayUpdateParams{ID: id, Name: g.Name, Type: g.Type, Protocol: g.Protocol,
			Host: g.Host, Port: g.Port, Security: g.Security, Login: g.Login, PasswordNonce: nonce, PasswordSealed: sealed,
			Address: g.Address, DepartmentID: g.DepartmentID, PollSeconds: g.PollSeconds, AfterProcessing: g.AfterProcessing,
			MaxMessageBytes: g.MaxMessageBytes, Paused: g.Paused})
		out = mailGatewayFromRow(row)
		return err
	})
	return out, dbError(err, "mail gateway", id)
}

// DeleteMailGateway deletes a gateway with what it took in (its incoming
// emails and intake records); the tickets it made stay.
func (s *Store) DeleteMailGateway(ctx context.Context, id int64) error {
	n, err := s.q.MailGatewayDelete(ctx, id)
	if err == nil && n == 0 {
		return billing.NotFound("mail gateway", id)
	}
	return dbError(err, "mail gateway", id)
}

// RecordMailGatewayPoll notes that gateway id was polled now, with the
// poll's error ("" when it went well). A gateway deleted meanwhile is no error.
func (s *Store) RecordMailGatewayPoll(ctx context.Context, id int64, lastError string) error {
	_, err := s.q.MailGatewayPolled(ctx, dbsqlc.MailGatewayPolledParams{ID: id, LastError: lastError})
	return dbError(err, "mail gateway", id)
}

// MailGatewayExists says whether gateway id is there.
func (s *Store) MailGatewayExists(ctx context.Context, id int64) (bool, error) {
	_, err := s.q.MailGatewayGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, dbError(err, "mail gateway", id)
}
