package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// listTasks answers the tasks of the caller's departments (an admin's: all);
// a department_id filter naming another department is not found.
func (s *Server) listTasks(c echo.Context) error {
	q := query{c: c}
	f := billing.TaskFilter{DepartmentID: q.id("department_id"), AssigneeID: q.id("assignee_id"),
		Status: q.oneOf("status", billing.TaskStatuses...), PageRequest: q.page()}
	if err := q.v.Err(); err != nil {
		return err
	}
	p := principalOf(c)
	if f.DepartmentID != nil && !p.SeesDepartment(*f.DepartmentID) {
		return billing.NotFound("department", *f.DepartmentID)
	}
	page, err := s.store.Tasks(c.Request().Context(), p, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// createTask adds a task to a department the caller is a member of (an
// admin: any) and, in the same transaction, queues the task_created notice to
// the department's other members.
func (s *Server) createTask(c echo.Context) error {
	var in billing.TaskCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	p := principalOf(c)
	t, err := in.Task(p.StaffID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if t, err = tx.CreateTask(ctx, p, t); err != nil {
			return err
		}
		return s.queueTaskCreated(ctx, tx, t)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) getTask(c echo.Context) error {
	id, err := pathID(c, "id", "task")
	if err != nil {
		return err
	}
	t, err := s.store.Task(c.Request().Context(), principalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) updateTask(c echo.Context) error {
	id, err := pathID(c, "id", "task")
	if err != nil {
		return err
	}
	var in billing.TaskUpdate
	if err := bind(c, &in); err != nil {
		return err
	}
	t, err := s.store.UpdateTask(c.Request().Context(), principalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
