package store

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// userFromRow converts a user row. The queries of users.sql read the same
// columns; their rows convert to dbsqlc.UserGetRow.
func userFromRow(r dbsqlc.UserGetRow) billing.User {
	return billing.User{ID: r.ID, CustomerID: r.CustomerID, Login: r.Login, Email: r.Email, Phone: r.Phone,
		FirstName: r.FirstName, LastName: r.LastName, Language: r.Language, EmailVerified: r.EmailVerified,
		Main: r.Main, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func insertUser(ctx context.Context, q *dbsqlc.Queries, customerID int64, in billing.UserCreate, passwordHash string, main bool) (billing.User, error) {
	row, err := q.UserInsert(ctx, dbsqlc.UserInsertParams{CustomerID: customerID, Login: in.Login, Email: in.Email,
		Phone: in.Phone, FirstName: in.FirstName, LastName: in.LastName, Language: in.Language,
		PasswordHash: passwordHash, EmailVerified: in.EmailVerified, Main: main})
	return userFromRow(dbsqlc.UserGetRow(row)), err
}

// activeCustomer locks the customer row and fails unless the customer exists and is active.
func activeCustomer(ctx context.Context, q *dbsqlc.Queries, id int64) error {
	status, err := q.CustomerStatusForUpdate(ctx, id)
	if err != nil {
		return dbError(err, "customer", id)
	}
	if status != billing.CustomerActive {
		return billing.Errorf(billing.ECONFLICT, "customer %d is deleted", id)
	}
	return nil
}

// CreateUser adds a user to an active customer.
func (s *Store) CreateUser(ctx context.Context, customerID int64, in billing.UserCreate, passwordHash string) (billing.User, error) {
	var u billing.User
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		var err error
		u, err = insertUser(ctx, q, customerID, in, passwordHash, false)
		auditObject(ctx, "user", u.ID, customerID)
		return err
	})
	return u, dbError(err, "user", "")
}

// Users lists the users of a customer, the main user first.
func (s *Store) Users(ctx context.Context, customerID int64) ([]billing.User, error) {
	if _, err := s.Customer(ctx, customerID); err != nil {
		return nil, err
	}
	rows, err := s.q.UserList(ctx, customerID)
	if err != nil {
		return nil, dbError(err, "user", "")
	}
	return fromRows(rows, func(r dbsqlc.UserListRow) billing.User { return userFromRow(dbsqlc.UserGetRow(r)) }), nil
}

// User returns user id of customer customerID; another customer's user is not found.
func (s *Store) User(ctx context.Context, customerID, id int64) (billing.User, error) {
	row, err := s.q.UserGet(ctx, dbsqlc.UserGetParams{ID: id, CustomerID: customerID})
	return userFromRow(row), dbError(err, "user", id)
}

// UpdateUser applies up to a user. newPasswordHash, if not empty, replaces the
// password and ends every session of the user but keepSession (the one that
// made the change, if it is theirs). Making a user main unsets the previous
// main user.
func (s *Store) UpdateUser(ctx context.Context, customerID, id int64, up billing.UserUpdate, newPasswordHash string, keepSession int64) (billing.User, error) {
	var out billing.User
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		row, err := q.UserGetForUpdate(ctx, dbsqlc.UserGetForUpdateParams{ID: id, CustomerID: customerID})
		if err != nil {
			return dbError(err, "user", id)
		}
		u, err := up.Apply(userFromRow(dbsqlc.UserGetRow(row)))
		if err != nil {
			return err
		}
		if up.Main != nil && *up.Main && !u.Main {
			if err := q.UserUnsetMain(ctx, customerID); err != nil {
				return err
			}
			u.Main = true
		}
		updated, err := q.UserUpdate(ctx, dbsqlc.UserUpdateParams{ID: id, Email: u.Email, Phone: u.Phone,
			FirstName: u.FirstName, LastName: u.LastName, Language: u.Language, EmailVerified: u.EmailVerified,
			Main: u.Main, PasswordHash: newPasswordHash})
		out = userFromRow(dbsqlc.UserGetRow(updated))
		if err != nil || newPasswordHash == "" {
			return err
		}
		return revokeUserSessions(ctx, q, id, keepSession)
	})
	return out, dbError(err, "user", id)
}

// DeleteUser removes a user who is not the main user.
func (s *Store) DeleteUser(ctx context.Context, customerID, id int64) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		main, err := q.UserIsMain(ctx, dbsqlc.UserIsMainParams{ID: id, CustomerID: customerID})
		if err != nil {
			return dbError(err, "user", id)
		}
		if main {
			return billing.Errorf(billing.ECONFLICT, "user %d is the main user; make another user main first", id)
		}
		return q.UserDelete(ctx, id)
	}), "user", id)
}
