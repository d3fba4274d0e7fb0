package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

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

// APIKeyOwner returns the staff member an API key belongs to.
func (s *Store) APIKeyOwner(ctx context.Context, keyID int64) (billing.Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff
		WHERE id = (SELECT staff_id FROM api_keys WHERE id = $1)`, keyID))
	return st, dbError(err, "API key", keyID)
}

// PrincipalByAPIKey returns the staff principal of a live API key and marks it used.
func (s *Store) PrincipalByAPIKey(ctx context.Context, keyHash []byte) (billing.Principal, error) {
	p := billing.Principal{Kind: billing.ActorAPIKey}
	err := s.pool.QueryRow(ctx, `UPDATE api_keys k SET last_used_at = now()
		FROM staff st WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND st.id = k.staff_id AND st.status = 'active'
		RETURNING k.id, st.id, st.role, st.permissions`, keyHash).Scan(&p.APIKeyID, &p.StaffID, &p.Role, &p.Permissions)
	return p, dbError(err, "API key", "")
}
