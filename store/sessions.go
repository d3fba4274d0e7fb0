package store

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

// StaffCredentials returns the active staff member with login and their password hash.
func (s *Store) StaffCredentials(ctx context.Context, login string) (billing.Staff, string, error) {
	var hash string
	var st billing.Staff
	err := s.pool.QueryRow(ctx, `SELECT `+staffColumns+`, password_hash FROM staff
		WHERE lower(login) = lower($1) AND status = 'active'`, login).Scan(&st.ID, &st.Login, &st.Email,
		&st.Name, &st.Role, &st.Permissions, &st.Status, &st.CreatedAt, &st.UpdatedAt, &hash)
	return st, hash, dbError(err, "staff member", login)
}

// UserCredentials returns the user with login, if their customer is active, and the password hash.
func (s *Store) UserCredentials(ctx context.Context, login string) (billing.User, string, error) {
	var hash string
	var u billing.User
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.customer_id, u.login, u.email, u.phone, u.first_name,
		u.last_name, u.language, u.email_verified, u.main, u.created_at, u.updated_at, u.password_hash
		FROM users u JOIN customers c ON c.id = u.customer_id
		WHERE lower(u.login) = lower($1) AND c.status = 'active'`, login).Scan(&u.ID, &u.CustomerID,
		&u.Login, &u.Email, &u.Phone, &u.FirstName, &u.LastName, &u.Language, &u.EmailVerified, &u.Main,
		&u.CreatedAt, &u.UpdatedAt, &hash)
	return u, hash, dbError(err, "user", login)
}

// Session is a signed-in session to create.
type Session struct {
	Kind            string
	StaffID         int64
	UserID          int64
	CustomerID      int64
	ParentSessionID int64
	IP              string
	ExpiresAt       time.Time
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateSession stores a session under the SHA-256 of its token.
func (s *Store) CreateSession(ctx context.Context, sess Session, tokenHash []byte) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, kind, staff_id, user_id, customer_id,
			parent_session_id, ip, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			tokenHash, sess.Kind, nullID(sess.StaffID), nullID(sess.UserID), nullID(sess.CustomerID),
			nullID(sess.ParentSessionID), nullIP(sess.IP), sess.ExpiresAt).Scan(&id)
	})
	return id, dbError(err, "session", "")
}

// PrincipalBySession returns who holds the live session with tokenHash. An
// expired or revoked session, a disabled staff member or a deleted customer
// is not found; so is an impersonation whose parent session has ended or
// whose staff member no longer holds the impersonate permission.
func (s *Store) PrincipalBySession(ctx context.Context, tokenHash []byte) (billing.Principal, error) {
	var p billing.Principal
	var staffID, userID, customerID *int64
	var role *string
	var perms []string
	var expires time.Time
	err := s.pool.QueryRow(ctx, `SELECT s.id, s.kind, s.staff_id, s.user_id, s.customer_id, s.expires_at,
			st.role, coalesce(st.permissions, '{}')
		FROM sessions s
		LEFT JOIN staff st ON st.id = s.staff_id
		LEFT JOIN customers c ON c.id = s.customer_id
		LEFT JOIN sessions parent ON parent.id = s.parent_session_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
		  AND (s.staff_id IS NULL OR st.status = 'active')
		  AND (s.customer_id IS NULL OR c.status = 'active')
		  AND (s.kind <> 'impersonation' OR (parent.revoked_at IS NULL AND parent.expires_at > now()
		       AND (st.role = 'admin' OR 'impersonate' = ANY(st.permissions))))`, tokenHash).Scan(&p.SessionID, &p.Kind,
		&staffID, &userID, &customerID, &expires, &role, &perms)
	if err != nil {
		return p, dbError(err, "session", "")
	}
	p.ExpiresAt = &expires
	if staffID != nil {
		p.StaffID = *staffID
	}
	if userID != nil {
		p.UserID = *userID
	}
	if customerID != nil {
		p.CustomerID = *customerID
	}
	if p.Kind == billing.ActorStaff && role != nil {
		p.Role, p.Permissions = *role, perms
	}
	return p, nil
}

// RevokeSession ends a session now, and the impersonations started from it.
func (s *Store) RevokeSession(ctx context.Context, id int64) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE (id = $1 OR parent_session_id = $1) AND revoked_at IS NULL`, id)
		return err
	}), "session", id)
}

// ParentSession returns the id of the session an impersonation session was started from.
func (s *Store) ParentSession(ctx context.Context, id int64) (int64, error) {
	var parent *int64
	err := s.pool.QueryRow(ctx, `SELECT parent_session_id FROM sessions WHERE id = $1`, id).Scan(&parent)
	if err != nil || parent == nil {
		return 0, dbError(err, "session", id)
	}
	return *parent, nil
}

// LoginFailures is what is known of the failed sign-ins under one key
// (a login or an address) within the last hour.
type LoginFailures struct {
	Key      string
	Failures int
	Last     time.Time
}

// CountLoginAttempt is the atomic first step of a sign-in: under a lock on
// the failure rows of keys, it reads them and, unless admit refuses, counts
// the attempt as a failure under every key before the password is checked.
// N parallel attempts are therefore counted as N, and each sees the count of
// those before it. A sign-in that then succeeds calls LoginSucceeded.
// It returns the failures as they were before this attempt, in keys' order.
func (s *Store) CountLoginAttempt(ctx context.Context, keys []string, admit func([]LoginFailures) bool) ([]LoginFailures, bool, error) {
	var out []LoginFailures
	admitted := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		sorted := slices.Sorted(slices.Values(keys)) // one lock order for every caller: no deadlocks
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (key, failures, last_failure_at)
			SELECT k, 0, now() FROM unnest($1::text[]) k ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT key, CASE WHEN last_failure_at > now() - interval '1 hour' THEN failures ELSE 0 END,
			last_failure_at FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE`, sorted)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LoginFailures])
		if err != nil {
			return err
		}
		out = make([]LoginFailures, len(keys))
		for i, k := range keys {
			out[i] = LoginFailures{Key: k}
			for _, g := range got {
				if g.Key == k {
					out[i] = g
				}
			}
		}
		if admitted = admit(out); !admitted {
			return nil
		}
		if _, err = tx.Exec(ctx, `INSERT INTO login_failures (key, failures, last_failure_at)
			SELECT k, 1, now() FROM unnest($1::text[]) k
			ON CONFLICT (key) DO UPDATE SET last_failure_at = now(), failures = CASE
				WHEN login_failures.last_failure_at > now() - interval '1 hour' THEN login_failures.failures + 1 ELSE 1 END`,
			sorted); err != nil {
			return err
		}
		// Forget failures older than an hour, a few at a time, so that
		// anonymous attempts with ever new logins can't grow the table.
		_, err = tx.Exec(ctx, `DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures
			WHERE last_failure_at < now() - interval '1 hour' ORDER BY last_failure_at LIMIT 100
			FOR UPDATE SKIP LOCKED)`) // rows another sign-in holds are left for later: no deadlock
		return err
	})
	return out, admitted, err
}

// LoginSucceeded takes back the failure CountLoginAttempt counted: the
// login's failures are forgotten, the address's count goes down by one.
func (s *Store) LoginSucceeded(ctx context.Context, loginKey, ipKey string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, loginKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = $1`, ipKey)
		return err
	})
}
