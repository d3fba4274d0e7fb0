package store

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// apiKeyFromRow converts an API key row. The queries of apikeys.sql read the
// same columns; their rows convert to dbsqlc.APIKeyListRow.
func apiKeyFromRow(r dbsqlc.APIKeyListRow) billing.APIKey {
	return billing.APIKey{ID: r.ID, StaffID: r.StaffID, Name: r.Name, Prefix: r.Prefix, CreatedAt: r.CreatedAt,
		LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
}

// CreateAPIKey stores an API key of a staff member under the SHA-256 of the key.
func (s *Store) CreateAPIKey(ctx context.Context, staffID int64, name, prefix string, keyHash []byte) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.APIKeyInsert(ctx, dbsqlc.APIKeyInsertParams{StaffID: staffID, Name: name, Prefix: prefix, KeyHash: keyHash})
		k = apiKeyFromRow(dbsqlc.APIKeyListRow(row))
		if e := billing.AuditFrom(ctx); e != nil && err == nil {
			e.SetObject("api_key", k.ID, 0)
		}
		return err
	})
	return k, dbError(err, "API key", "")
}

// APIKeys lists API keys, of one staff member when staffID is set.
func (s *Store) APIKeys(ctx context.Context, staffID *int64) ([]billing.APIKey, error) {
	rows, err := s.q.APIKeyList(ctx, staffID)
	if err != nil {
		return nil, dbError(err, "API key", "")
	}
	return fromRows(rows, apiKeyFromRow), nil
}

// RevokeAPIKey revokes a key; with staffID set, only that staff member's key.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, staffID *int64) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.APIKeyRevoke(ctx, dbsqlc.APIKeyRevokeParams{ID: id, StaffID: staffID})
		k = apiKeyFromRow(dbsqlc.APIKeyListRow(row))
		return dbError(err, "API key", id)
	})
	return k, dbError(err, "API key", id)
}

// APIKeyOwner returns the staff member an API key belongs to.
func (s *Store) APIKeyOwner(ctx context.Context, keyID int64) (billing.Staff, error) {
	row, err := s.q.APIKeyOwner(ctx, keyID)
	return staffFromRow(dbsqlc.StaffGetRow(row)), dbError(err, "API key", keyID)
}

// PrincipalByAPIKey returns the staff principal of a live API key and marks it used.
func (s *Store) PrincipalByAPIKey(ctx context.Context, keyHash []byte) (billing.Principal, error) {
	r, err := s.q.APIKeyPrincipal(ctx, keyHash)
	p := billing.Principal{Kind: billing.ActorAPIKey, APIKeyID: r.APIKeyID, StaffID: r.StaffID, Role: r.Role, Permissions: r.Permissions,
		DepartmentIDs: r.DepartmentIds}
	return p, dbError(err, "API key", "")
}
