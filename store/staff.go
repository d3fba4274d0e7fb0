package store

import (
	"context"
	"slices"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// staffFromRow converts a staff row. The queries that read a staff member
// (staff.sql, APIKeyOwner) read the same columns; their rows convert to
// dbsqlc.StaffGetRow.
func staffFromRow(r dbsqlc.StaffGetRow) billing.Staff {
	return billing.Staff{ID: r.ID, Login: r.Login, Email: r.Email, Name: r.Name, Role: r.Role,
		Permissions: r.Permissions, Status: r.Status, DepartmentIDs: []int64{}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateStaff adds a staff member.
func (s *Store) CreateStaff(ctx context.Context, in billing.StaffCreate, passwordHash string) (billing.Staff, error) {
	var out billing.Staff
	err := s.inTxStore(ctx, func(tx *Store) error {
		row, err := tx.q.StaffInsert(ctx, dbsqlc.StaffInsertParams{Login: in.Login, Email: in.Email, Name: in.Name,
			PasswordHash: passwordHash, Role: in.Role, Permissions: in.Permissions})
		if err != nil {
			return err
		}
		out = staffFromRow(dbsqlc.StaffGetRow(row))
		if e := billing.AuditFrom(ctx); e != nil {
			e.SetObject("staff", out.ID, 0)
		}
		if len(in.DepartmentIDs) > 0 {
			if err := tx.SetStaffDepartments(ctx, out.ID, in.DepartmentIDs); err != nil {
				return err
			}
		}
		out.DepartmentIDs, err = tx.StaffDepartments(ctx, out.ID)
		return err
	})
	return out, dbError(err, "staff member", "")
}

// CountStaff returns how many staff members exist.
func (s *Store) CountStaff(ctx context.Context) (int, error) {
	n, err := s.q.StaffCount(ctx)
	return int(n), err
}

// StaffMember returns a staff member.
func (s *Store) StaffMember(ctx context.Context, id int64) (billing.Staff, error) {
	row, err := s.q.StaffGet(ctx, id)
	if err != nil {
		return billing.Staff{}, dbError(err, "staff member", id)
	}
	st := staffFromRow(row)
	st.DepartmentIDs, err = s.StaffDepartments(ctx, id)
	return st, err
}

// StaffList lists the staff.
func (s *Store) StaffList(ctx context.Context) ([]billing.Staff, error) {
	rows, err := s.q.StaffList(ctx)
	if err != nil {
		return nil, dbError(err, "staff member", "")
	}
	members, err := s.q.DepartmentMembers(ctx)
	if err != nil {
		return nil, dbError(err, "staff member", "")
	}
	byStaff := map[int64][]int64{}
	for _, m := range members {
		byStaff[m.StaffID] = append(byStaff[m.StaffID], m.DepartmentID)
	}
	return fromRows(rows, func(r dbsqlc.StaffListRow) billing.Staff {
		st := staffFromRow(dbsqlc.StaffGetRow(r))
		if st.DepartmentIDs = byStaff[st.ID]; st.DepartmentIDs == nil {
			st.DepartmentIDs = []int64{}
		}
		return st
	}), nil
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
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		if err := q.StaffLock(ctx, []int64{id, by.StaffID}); err != nil {
			return err
		}
		if by.StaffID != 0 && by.StaffID != id {
			caller, err := q.StaffGet(ctx, by.StaffID)
			if err != nil || caller.Status != billing.StaffActive {
				return billing.Errorf(billing.EUNAUTHORIZED, "your staff account is no longer active; sign in again")
			}
			by.Role, by.Permissions = caller.Role, caller.Permissions
			if by.DepartmentIDs, err = tx.StaffDepartments(ctx, by.StaffID); err != nil {
				return err
			}
		}
		row, err := q.StaffGet(ctx, id)
		if err != nil {
			return dbError(err, "staff member", id)
		}
		before := staffFromRow(row)
		if before.DepartmentIDs, err = tx.StaffDepartments(ctx, id); err != nil {
			return err
		}
		if by.StaffID == id {
			by.Role, by.Permissions, by.DepartmentIDs = before.Role, before.Permissions, before.DepartmentIDs
		}
		st, err := up.Apply(before) // invalid values are 422, before any question of rights
		if err != nil {
			return err
		}
		if err := by.MayChangeStaff(before, up); err != nil {
			return err
		}
		updated, err := q.StaffUpdate(ctx, dbsqlc.StaffUpdateParams{ID: id, Name: st.Name, Email: st.Email, Role: st.Role,
			Permissions: st.Permissions, Status: st.Status, PasswordHash: newPasswordHash})
		if err != nil {
			return err
		}
		out = staffFromRow(dbsqlc.StaffGetRow(updated))
		if up.DepartmentIDs != nil {
			if err := tx.SetStaffDepartments(ctx, id, *up.DepartmentIDs); err != nil {
				return err
			}
		}
		if out.DepartmentIDs, err = tx.StaffDepartments(ctx, id); err != nil {
			return err
		}
		if st.Status == billing.StaffDisabled {
			if err := q.APIKeyRevokeOfStaff(ctx, id); err != nil {
				return err
			}
		}
		if mayImpersonate(before) && !mayImpersonate(out) {
			if err := q.SessionRevokeImpersonationsOfStaff(ctx, id); err != nil {
				return err
			}
		}
		if st.Status == billing.StaffDisabled || newPasswordHash != "" {
			return revokeStaffSessions(ctx, q, id, by.SessionID)
		}
		return nil
	})
	return out, dbError(err, "staff member", id)
}

func mayImpersonate(st billing.Staff) bool {
	return st.Role == billing.RoleAdmin || slices.Contains(st.Permissions, billing.PermImpersonate)
}
