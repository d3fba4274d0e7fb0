package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const userColumns = `id, customer_id, login, email, phone, first_name, last_name, language,
	email_verified, main, created_at, updated_at`

func scanUser(row pgx.Row) (billing.User, error) {
	var u billing.User
	err := row.Scan(&u.ID, &u.CustomerID, &u.Login, &u.Email, &u.Phone, &u.FirstName, &u.LastName,
		&u.Language, &u.EmailVerified, &u.Main, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

func insertUser(ctx context.Context, q querier, customerID int64, in billing.UserCreate, passwordHash string, main bool) (billing.User, error) {
	return scanUser(q.QueryRow(ctx, `INSERT INTO users (customer_id, login, email, phone,
		first_name, last_name, language, password_hash, email_verified, main)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+userColumns,
		customerID, in.Login, in.Email, in.Phone, in.FirstName, in.LastName, in.Language,
		passwordHash, in.EmailVerified, main))
}

// activeCustomer locks the customer row and fails unless the customer exists and is active.
func activeCustomer(ctx context.Context, tx pgx.Tx, id int64) error {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM customers WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		u, err = insertUser(ctx, tx, customerID, in, passwordHash, false)
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
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE customer_id = $1
		ORDER BY main DESC, id`, customerID)
	if err != nil {
		return nil, dbError(err, "user", "")
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.User, error) { return scanUser(r) })
	if users == nil {
		users = []billing.User{}
	}
	return users, dbError(err, "user", "")
}

// User returns user id of customer customerID; another customer's user is not found.
func (s *Store) User(ctx context.Context, customerID, id int64) (billing.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users
		WHERE id = $1 AND customer_id = $2`, id, customerID))
	return u, dbError(err, "user", id)
}

// UpdateUser applies up to a user. newPasswordHash, if not empty, replaces the
// password and ends every session of the user but keepSession (the one that
// made the change, if it is theirs). Making a user main unsets the previous
// main user.
func (s *Store) UpdateUser(ctx context.Context, customerID, id int64, up billing.UserUpdate, newPasswordHash string, keepSession int64) (billing.User, error) {
	var out billing.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users
			WHERE id = $1 AND customer_id = $2 FOR UPDATE`, id, customerID))
		if err != nil {
			return dbError(err, "user", id)
		}
		if u, err = up.Apply(u); err != nil {
			return err
		}
		if up.Main != nil && *up.Main && !u.Main {
			if _, err := tx.Exec(ctx, `UPDATE users SET main = false, updated_at = now()
				WHERE customer_id = $1 AND main`, customerID); err != nil {
				return err
			}
			u.Main = true
		}
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET email = $2, phone = $3,
			first_name = $4, last_name = $5, language = $6, email_verified = $7, main = $8,
			password_hash = coalesce(nullif($9, ''), password_hash), updated_at = now()
			WHERE id = $1 RETURNING `+userColumns, id, u.Email, u.Phone, u.FirstName, u.LastName,
			u.Language, u.EmailVerified, u.Main, newPasswordHash))
		if err != nil || newPasswordHash == "" {
			return err
		}
		return revokeSessions(ctx, tx, "user_id", id, keepSession)
	})
	return out, dbError(err, "user", id)
}

// DeleteUser removes a user who is not the main user.
func (s *Store) DeleteUser(ctx context.Context, customerID, id int64) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var main bool
		if err := tx.QueryRow(ctx, `SELECT main FROM users WHERE id = $1 AND customer_id = $2`, id, customerID).Scan(&main); err != nil {
			return dbError(err, "user", id)
		}
		if main {
			return billing.Errorf(billing.ECONFLICT, "user %d is the main user; make another user main first", id)
		}
		_, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		return err
	}), "user", id)
}
