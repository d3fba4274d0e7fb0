package store

import (
	"context"
	"slices"

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

// UpdateStaff applies up on behalf of by, if by may make the change
// (billing.Principal.MayChangeStaff). The caller's and the member's rows are
// locked, in one order, and the caller's rights read again under the lock:
// two admins demoting each other at once can't both succeed, and crossed
// changes can't deadlock. Disabling a staff member ends their sessions and
// revokes their API keys for good; changing the password ends every session
// of theirs but by's own; losing the impersonate permission ends their
// impersonations for good.
func (s *Store) UpdateStaff(ctx context.Context, by billing.Principal, id int64, up billing.StaffUpdate, newPasswordHash string) (billing.Staff, error) {
	var out billing.Staff
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM staff WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
			[]int64{id, by.StaffID}); err != nil {
			return err
		}
		if by.StaffID != 0 && by.StaffID != id {
			caller, err := scanStaff(tx.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, by.StaffID))
			if err != nil || caller.Status != billing.StaffActive {
				return billing.Errorf(billing.EUNAUTHORIZED, "your staff account is no longer active; sign in again")
			}
			by.Role, by.Permissions = caller.Role, caller.Permissions
		}
		before, err := scanStaff(tx.QueryRow(ctx, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id))
		if err != nil {
			return dbError(err, "staff member", id)
		}
		if by.StaffID == id {
			by.Role, by.Permissions = before.Role, before.Permissions
		}
		st, err := up.Apply(before) // invalid values are 422, before any question of rights
		if err != nil {
			return err
		}
		if err := by.MayChangeStaff(before, up); err != nil {
			return err
		}
		out, err = scanStaff(tx.QueryRow(ctx, `UPDATE staff SET name = $2, email = $3, role = $4,
			permissions = $5, status = $6, password_hash = coalesce(nullif($7, ''), password_hash),
			updated_at = now() WHERE id = $1 RETURNING `+staffColumns, id, st.Name, st.Email, st.Role,
			st.Permissions, st.Status, newPasswordHash))
		if err != nil {
			return err
		}
		if st.Status == billing.StaffDisabled {
			if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL`, id); err != nil {
				return err
			}
		}
		if mayImpersonate(before) && !mayImpersonate(out) {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now()
				WHERE staff_id = $1 AND kind = 'impersonation' AND revoked_at IS NULL`, id); err != nil {
				return err
			}
		}
		if st.Status == billing.StaffDisabled || newPasswordHash != "" {
			return revokeSessions(ctx, tx, "staff_id", id, by.SessionID)
		}
		return nil
	})
	return out, dbError(err, "staff member", id)
}

func mayImpersonate(st billing.Staff) bool {
	return st.Role == billing.RoleAdmin || slices.Contains(st.Permissions, billing.PermImpersonate)
}

// revokeSessions ends every live session whose column (staff_id or user_id)
// is id, except the session keep, and the impersonations started from them.
func revokeSessions(ctx context.Context, tx pgx.Tx, column string, id, keep int64) error {
	rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = now()
		WHERE `+column+` = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id`, id, keep)
	if err != nil {
		return err
	}
	ended, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE sessions SET revoked_at = now()
		WHERE parent_session_id = ANY($1) AND revoked_at IS NULL`, ended)
	return err
}
