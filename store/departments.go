package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func departmentFromRow(r dbsqlc.Department, staffIDs []int64) billing.Department {
	if staffIDs == nil {
		staffIDs = []int64{}
	}
	return billing.Department{ID: r.ID, Name: r.Name, ShowInSupport: r.ShowInSupport, Email: r.Email,
		RequiresIncidents: r.RequiresIncidents, StaffIDs: staffIDs, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateDepartment adds a department.
func (s *Store) CreateDepartment(ctx context.Context, in billing.DepartmentInput) (billing.Department, error) {
	d, err := in.Apply(billing.Department{ShowInSupport: true})
	if err != nil {
		return d, err
	}
	var out billing.Department
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.DepartmentInsert(ctx, dbsqlc.DepartmentInsertParams{Name: d.Name, ShowInSupport: d.ShowInSupport,
			Email: d.Email, RequiresIncidents: d.RequiresIncidents})
		out = departmentFromRow(row, nil)
		if err == nil {
			auditObject(ctx, "department", out.ID, 0)
		}
		return err
	})
	return out, dbError(err, "department", "")
}

// Department returns a department with its members.
func (s *Store) Department(ctx context.Context, id int64) (billing.Department, error) {
	row, err := s.q.DepartmentGet(ctx, id)
	if err != nil {
		return billing.Department{}, dbError(err, "department", id)
	}
	staff, err := s.q.DepartmentStaffIDs(ctx, id)
	return departmentFromRow(row, staff), dbError(err, "department", id)
}

// Departments lists the departments with their members, by name.
func (s *Store) Departments(ctx context.Context) ([]billing.Department, error) {
	rows, err := s.q.DepartmentList(ctx)
	if err != nil {
		return nil, dbError(err, "department", "")
	}
	members, err := s.q.DepartmentMembers(ctx)
	if err != nil {
		return nil, dbError(err, "department", "")
	}
	byDept := map[int64][]int64{}
	for _, m := range members {
		byDept[m.DepartmentID] = append(byDept[m.DepartmentID], m.StaffID)
	}
	out := make([]billing.Department, len(rows))
	for i, r := range rows {
		out[i] = departmentFromRow(r, byDept[r.ID])
	}
	return out, nil
}

// UpdateDepartment applies in to department id.
func (s *Store) UpdateDepartment(ctx context.Context, id int64, in billing.DepartmentInput) (billing.Department, error) {
	var out billing.Department
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.DepartmentLock(ctx, id)
		if err != nil {
			return dbError(err, "department", id)
		}
		d, err := in.Apply(departmentFromRow(row, nil))
		if err != nil {
			return err
		}
		row, err = q.DepartmentUpdate(ctx, dbsqlc.DepartmentUpdateParams{ID: id, Name: d.Name, ShowInSupport: d.ShowInSupport,
			Email: d.Email, RequiresIncidents: d.RequiresIncidents})
		if err != nil {
			return err
		}
		staff, err := q.DepartmentStaffIDs(ctx, id)
		out = departmentFromRow(row, staff)
		return err
	})
	return out, dbError(err, "department", id)
}

// DeleteDepartment deletes a department that never had a ticket or a task;
// one that had is a conflict (hide it from the support center instead).
func (s *Store) DeleteDepartment(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if _, err := q.DepartmentLock(ctx, id); err != nil {
			return dbError(err, "department", id)
		}
		has, err := q.DepartmentHasTickets(ctx, id)
		if err != nil {
			return err
		}
		if has {
			return billing.Errorf(billing.ECONFLICT, "department %d has tickets; hide it from the support center (show_in_support: false) instead", id)
		}
		if has, err = q.DepartmentHasTasks(ctx, id); err != nil {
			return err
		} else if has {
			return billing.Errorf(billing.ECONFLICT, "department %d has tasks; hide it from the support center (show_in_support: false) instead", id)
		}
		if has, err = q.DepartmentHasMailGateways(ctx, id); err != nil {
			return err
		} else if has {
			return billing.Errorf(billing.ECONFLICT, "department %d has mail gateways; move them to another department or delete them first", id)
		}
		_, err = q.DepartmentDelete(ctx, id)
		return err
	})
	return dbError(err, "department", id)
}

// StaffDepartments returns the departments staff member id belongs to.
func (s *Store) StaffDepartments(ctx context.Context, staffID int64) ([]int64, error) {
	ids, err := s.q.StaffDepartmentIDs(ctx, staffID)
	if ids == nil {
		ids = []int64{}
	}
	return ids, dbError(err, "staff member", staffID)
}

// SetStaffDepartments makes staff member staffID a member of exactly the
// departments ids; an unknown department is invalid.
func (s *Store) SetStaffDepartments(ctx context.Context, staffID int64, ids []int64) error {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		known, err := q.DepartmentsExisting(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(known, id) {
				return &billing.Error{Code: billing.EINVALID, Message: "an unknown department; see fields",
					Fields: map[string]string{"department_ids": fmt.Sprintf("department %d does not exist", id)}}
			}
		}
		if err := q.StaffDepartmentsClear(ctx, staffID); err != nil {
			return err
		}
		return q.StaffDepartmentsAdd(ctx, dbsqlc.StaffDepartmentsAddParams{StaffID: staffID, DepartmentIds: ids})
	})
	return dbError(err, "staff member", staffID)
}
