package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func taskFromRow(r dbsqlc.Task) billing.Task {
	return billing.Task{ID: r.ID, DepartmentID: r.DepartmentID, Title: r.Title, Description: r.Description,
		AssigneeID: r.AssigneeID, DueAt: r.DueAt, Status: r.Status, TicketID: r.TicketID, CustomerID: r.CustomerID,
		CreatedByID: r.CreatedByID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateTask adds task t (validated by billing.TaskCreate). Its department
// must exist, its assignee be an active member of it, and its ticket and
// customer, if any, exist; the ticket in a department that p sees (another
// department's ticket is as unknown to p as a missing one).
func (s *Store) CreateTask(ctx context.Context, p billing.Principal, t billing.Task) (billing.Task, error) {
	var out billing.Task
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var v billing.Validator
		if _, err := q.DepartmentGet(ctx, t.DepartmentID); errors.Is(err, pgx.ErrNoRows) {
			v.Check(false, "department_id", fmt.Sprintf("department %d does not exist", t.DepartmentID))
			return v.Err()
		} else if err != nil {
			return err
		}
		if !p.SeesDepartment(t.DepartmentID) {
			return billing.Errorf(billing.EFORBIDDEN, "only members of department %d (and admins) can create its tasks", t.DepartmentID)
		}
		if err := checkAssignee(ctx, q, &v, t); err != nil {
			return err
		}
		if t.TicketID != nil {
			dept, err := q.TaskTicketDepartment(ctx, *t.TicketID)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			v.Check(err == nil && p.SeesDepartment(dept), "ticket_id", fmt.Sprintf("ticket %d does not exist", *t.TicketID))
		}
		if t.CustomerID != nil {
			ok, err := q.TaskCustomerExists(ctx, *t.CustomerID)
			if err != nil {
				return err
			}
			v.Check(ok, "customer_id", fmt.Sprintf("customer %d does not exist", *t.CustomerID))
		}
		if err := v.Err(); err != nil {
			return err
		}
		row, err := q.TaskInsert(ctx, dbsqlc.TaskInsertParams{DepartmentID: t.DepartmentID, Title: t.Title, Description: t.Description,
			AssigneeID: t.AssigneeID, DueAt: t.DueAt, Status: t.Status, TicketID: t.TicketID, CustomerID: t.CustomerID,
			CreatedByID: t.CreatedByID})
		if err != nil {
			return err
		}
		out = taskFromRow(row)
		auditObject(ctx, "task", out.ID, 0)
		return nil
	})
	return out, dbError(err, "task", "")
}

// checkAssignee records a field error unless t's assignee, if any, is an
// active member of its department.
func checkAssignee(ctx context.Context, q *dbsqlc.Queries, v *billing.Validator, t billing.Task) error {
	if t.AssigneeID == nil {
		return nil
	}
	ok, err := q.TaskAssigneeOK(ctx, dbsqlc.TaskAssigneeOKParams{StaffID: *t.AssigneeID, DepartmentID: t.DepartmentID})
	v.Check(ok, "assignee_id", fmt.Sprintf("staff member %d is not an active member of department %d", *t.AssigneeID, t.DepartmentID))
	return err
}

// Task returns task id if p sees its department; otherwise it is not found,
// as if it did not exist.
func (s *Store) Task(ctx context.Context, p billing.Principal, id int64) (billing.Task, error) {
	row, err := s.q.TaskGet(ctx, id)
	if err != nil {
		return billing.Task{}, dbError(err, "task", id)
	}
	if !p.SeesDepartment(row.DepartmentID) {
		return billing.Task{}, billing.NotFound("task", id)
	}
	return taskFromRow(row), nil
}

// UpdateTask applies u to task id, which p must see (else not found).
func (s *Store) UpdateTask(ctx context.Context, p billing.Principal, id int64, u billing.TaskUpdate) (billing.Task, error) {
	var out billing.Task
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.TaskLock(ctx, id)
		if err != nil {
			return dbError(err, "task", id)
		}
		if !p.SeesDepartment(row.DepartmentID) {
			return billing.NotFound("task", id)
		}
		t, err := u.Apply(taskFromRow(row))
		if err != nil {
			return err
		}
		var v billing.Validator
		if u.AssigneeID.Set {
			if err := checkAssignee(ctx, q, &v, t); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		row, err = q.TaskUpdate(ctx, dbsqlc.TaskUpdateParams{ID: id, Title: t.Title, Description: t.Description,
			AssigneeID: t.AssigneeID, DueAt: t.DueAt, Status: t.Status})
		out = taskFromRow(row)
		return err
	})
	return out, dbError(err, "task", id)
}

// Tasks returns a page of the tasks f selects, newest first, of the
// departments p sees (an admin: all).
func (s *Store) Tasks(ctx context.Context, p billing.Principal, f billing.TaskFilter) (billing.Page[billing.Task], error) {
	f.DepartmentIDs = nil
	if p.Role != billing.RoleAdmin {
		f.DepartmentIDs = append([]int64{}, p.DepartmentIDs...) // never nil: none sees none
	}
	out, err := page(f.PageRequest, func() (int64, error) {
		return s.q.TaskCount(ctx, dbsqlc.TaskCountParams{DepartmentIds: f.DepartmentIDs, DepartmentID: f.DepartmentID,
			AssigneeID: f.AssigneeID, Status: f.Status})
	}, func(limit, offset int64) ([]billing.Task, error) {
		rows, err := s.q.TaskList(ctx, dbsqlc.TaskListParams{DepartmentIds: f.DepartmentIDs, DepartmentID: f.DepartmentID,
			AssigneeID: f.AssigneeID, Status: f.Status, Limit: limit, Offset: offset})
		return fromRows(rows, taskFromRow), err
	})
	return out, dbError(err, "task", "")
}
