package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const staffColumns = `id, login, email, name, role, permissions, status, created_at, updated_at`

func scanStaff(row pgx.Row) (billing.Staff, error) {
	var s billing.Staff
	err := row.Scan(&s.ID, &s.Login, &s.Email, &s.Name, &s.Role, &s.Permissions, &s.Status, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// CreateStaff adds a staff member.
func (s *Store) CreateStaff(ctx context.Context, in billing.StaffCreate, passwordHash string) (billing.Staff, error) {
	var out billing.Staff
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanStaff(tx.QueryRow(ctx, `INSERT INTO staff (login, email, name, password_hash, role, permissions)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+staffColumns, in.Login, in.Email, in.Name, passwordHash, in.Role, in.Permissions))
		if e := billing.AuditFrom(ctx); e != nil && err == nil {
			e.SetObject("staff", out.ID, 0)
		}
		return err
	})
	return out, dbError(err, "staff member", "")
}

// CountStaff returns how many staff members exist.
func (s *Store) CountStaff(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM staff`).Scan(&n)
	return n, err
}

// StaffMember returns a staff member.
func (s *Store) StaffMember(ctx context.Context, id int64) (billing.Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id))
	return st, dbError(err, "staff member", id)
}

// StaffList lists the staff.
func (s *Store) StaffList(ctx context.Context) ([]billing.Staff, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+staffColumns+` FROM staff ORDER BY id`)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Staff, error) { return scanStaff(r) })
	if list == nil {
		list = []billing.Staff{}
	}
	return list, dbError(err, "staff member", "")
}

// UpdateStaff applies up. Disabling a staff member or changing the password
// revokes their sessions.
func (s *Store) UpdateStaff(ctx context.Context, id int64, up billing.StaffUpdate, newPasswordHash string) (billing.Staff, error) {
	var out billing.Staff
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		st, err := scanStaff(tx.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return dbError(err, "staff member", id)
		}
		if st, err = up.Apply(st); err != nil {
			return err
		}
		out, err = scanStaff(tx.QueryRow(ctx, `UPDATE staff SET name = $2, email = $3, role = $4,
			permissions = $5, status = $6, password_hash = coalesce(nullif($7, ''), password_hash),
			updated_at = now() WHERE id = $1 RETURNING `+staffColumns, id, st.Name, st.Email, st.Role,
			st.Permissions, st.Status, newPasswordHash))
		if err != nil {
			return err
		}
		if st.Status == billing.StaffDisabled || newPasswordHash != "" {
			_, err = tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL`, id)
		}
		return err
	})
	return out, dbError(err, "staff member", id)
}

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
// is not found.
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
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
		  AND (s.staff_id IS NULL OR st.status = 'active')
		  AND (s.customer_id IS NULL OR c.status = 'active')`, tokenHash).Scan(&p.SessionID, &p.Kind,
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

// RevokeSession ends a session now.
func (s *Store) RevokeSession(ctx context.Context, id int64) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
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

const apiKeyColumns = `id, staff_id, name, prefix, created_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (billing.APIKey, error) {
	var k billing.APIKey
	err := row.Scan(&k.ID, &k.StaffID, &k.Name, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	return k, err
}

// CreateAPIKey stores an API key of a staff member under the SHA-256 of the key.
func (s *Store) CreateAPIKey(ctx context.Context, staffID int64, name, prefix string, keyHash []byte) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRow(ctx, `INSERT INTO api_keys (staff_id, name, prefix, key_hash)
			VALUES ($1, $2, $3, $4) RETURNING `+apiKeyColumns, staffID, name, prefix, keyHash))
		if e := billing.AuditFrom(ctx); e != nil && err == nil {
			e.SetObject("api_key", k.ID, 0)
		}
		return err
	})
	return k, dbError(err, "API key", "")
}

// APIKeys lists API keys, of one staff member when staffID is set.
func (s *Store) APIKeys(ctx context.Context, staffID *int64) ([]billing.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE $1::bigint IS NULL OR staff_id = $1 ORDER BY id`, staffID)
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.APIKey, error) { return scanAPIKey(r) })
	if keys == nil {
		keys = []billing.APIKey{}
	}
	return keys, dbError(err, "API key", "")
}

// RevokeAPIKey revokes a key; with staffID set, only that staff member's key.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, staffID *int64) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
			WHERE id = $1 AND ($2::bigint IS NULL OR staff_id = $2) RETURNING `+apiKeyColumns, id, staffID))
		return dbError(err, "API key", id)
	})
	return k, dbError(err, "API key", id)
}

// PrincipalByAPIKey returns the staff principal of a live API key and marks it used.
func (s *Store) PrincipalByAPIKey(ctx context.Context, keyHash []byte) (billing.Principal, error) {
	p := billing.Principal{Kind: billing.ActorAPIKey}
	err := s.pool.QueryRow(ctx, `UPDATE api_keys k SET last_used_at = now()
		FROM staff st WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND st.id = k.staff_id AND st.status = 'active'
		RETURNING k.id, st.id, st.role, st.permissions`, keyHash).Scan(&p.APIKeyID, &p.StaffID, &p.Role, &p.Permissions)
	return p, dbError(err, "API key", "")
}

// LoginFailures returns the most failures recorded under any of keys, and when the last one was.
// Failures older than an hour are forgotten.
func (s *Store) LoginFailures(ctx context.Context, keys ...string) (int, time.Time, error) {
	var n int
	var last *time.Time
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(failures), 0), max(last_failure_at) FROM login_failures
		WHERE key = ANY($1) AND last_failure_at > now() - interval '1 hour'`, keys).Scan(&n, &last)
	if last == nil {
		return n, time.Time{}, err
	}
	return n, *last, err
}

// RecordLoginFailure counts a failed sign-in under each key.
func (s *Store) RecordLoginFailure(ctx context.Context, keys ...string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO login_failures (key, failures, last_failure_at)
		SELECT k, 1, now() FROM unnest($1::text[]) k
		ON CONFLICT (key) DO UPDATE SET last_failure_at = now(), failures = CASE
			WHEN login_failures.last_failure_at > now() - interval '1 hour' THEN login_failures.failures + 1 ELSE 1 END`, keys)
	return err
}

// ClearLoginFailures forgets the failures under key, after a successful sign-in.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return err
}
