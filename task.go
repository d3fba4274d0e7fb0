package billing

import (
	"bytes"
	"encoding/json"
	"time"
)

// Task statuses.
const (
	TaskOpen       = "open"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskCancelled  = "cancelled"
)

// Task is a piece of staff work in a department (seed 000's "Tasks"): a
// new one notifies every member of its department.
type Task struct {
	ID           int64      `json:"id"`
	DepartmentID int64      `json:"department_id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	AssigneeID   *int64     `json:"assignee_id"`
	DueAt        *time.Time `json:"due_at"`
	Status       string     `json:"status"`
	// TicketID and CustomerID link it to what it is about, if anything.
	TicketID    *int64    `json:"ticket_id"`
	CustomerID  *int64    `json:"customer_id"`
	CreatedByID int64     `json:"created_by_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TaskStatuses lists the task statuses.
var TaskStatuses = []string{TaskOpen, TaskInProgress, TaskDone, TaskCancelled}

// TaskCreate is a new task. Its department and links can't change later;
// the store checks that the assignee is an active member of the department
// and that the ticket and customer exist. A due date in the past is allowed:
// staff record overdue work too.
type TaskCreate struct {
	DepartmentID int64      `json:"department_id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	AssigneeID   *int64     `json:"assignee_id"`
	DueAt        *time.Time `json:"due_at"`
	Status       string     `json:"status"`
	TicketID     *int64     `json:"ticket_id"`
	CustomerID   *int64     `json:"customer_id"`
}

// Task returns the task in describes, created by staff member createdBy,
// validated.
func (in TaskCreate) Task(createdBy int64) (Task, error) {
	t := Task{DepartmentID: in.DepartmentID, Title: in.Title, Description: in.Description, AssigneeID: in.AssigneeID,
		DueAt: in.DueAt, Status: in.Status, TicketID: in.TicketID, CustomerID: in.CustomerID, CreatedByID: createdBy}
	if t.Status == "" {
		t.Status = TaskOpen
	}
	var v Validator
	v.Check(in.DepartmentID > 0, "department_id", "is required")
	v.Check(in.TicketID == nil || *in.TicketID > 0, "ticket_id", "must be a positive ID")
	v.Check(in.CustomerID == nil || *in.CustomerID > 0, "customer_id", "must be a positive ID")
	t.validate(&v)
	return t, v.Err()
}

func (t Task) validate(v *Validator) {
	v.Text("title", t.Title, 200)
	v.LongText("description", t.Description, 10000)
	v.OneOf("status", t.Status, TaskStatuses...)
	v.Check(t.AssigneeID == nil || *t.AssigneeID > 0, "assignee_id", "must be a positive ID")
}

// TaskUpdate changes the fields that are set; assignee_id and due_at set
// to null clear them.
type TaskUpdate struct {
	Title       *string          `json:"title"`
	Description *string          `json:"description"`
	AssigneeID  Clear[int64]     `json:"assignee_id"`
	DueAt       Clear[time.Time] `json:"due_at"`
	Status      *string          `json:"status"`
}

// Apply returns t with u applied, validated.
func (u TaskUpdate) Apply(t Task) (Task, error) {
	set(&t.Title, u.Title)
	set(&t.Description, u.Description)
	set(&t.Status, u.Status)
	if u.AssigneeID.Set {
		t.AssigneeID = u.AssigneeID.Value
	}
	if u.DueAt.Set {
		t.DueAt = u.DueAt.Value
	}
	var v Validator
	t.validate(&v)
	return t, v.Err()
}

// Clear is a field of a change that may be left out (Set false), set to a
// value, or set to null to clear it (Set true, Value nil): a *T alone can't
// tell "left out" from null.
type Clear[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON records that the field was sent, and its value unless null.
func (c *Clear[T]) UnmarshalJSON(b []byte) error {
	c.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		c.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Value = &v
	return nil
}

// TaskFilter selects tasks for a list. Zero fields don't filter.
type TaskFilter struct {
	// DepartmentIDs, when not nil, are the only departments listed: the
	// store sets them to the caller's.
	DepartmentIDs []int64
	DepartmentID  *int64
	AssigneeID    *int64
	Status        string
	PageRequest
}
