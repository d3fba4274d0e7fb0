package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// supportTeam is seed 003's example: John in technical support, Gary in
// technical support and sales, each with a session.
type supportTeam struct {
	technical, sales billing.Department
	john, gary       billing.Staff
	johnToken        string
	garyToken        string
}

func (b *bundle) supportTeam() supportTeam {
	b.t.Helper()
	ctx := b.t.Context()
	var team supportTeam
	for _, d := range []*billing.Department{&team.technical, &team.sales} {
		name := "Dept " + uniq()
		var err error
		*d, err = b.store.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
		require.NoError(b.t, err)
	}
	for _, m := range []struct {
		staff *billing.Staff
		token *string
		depts []int64
	}{
		{&team.john, &team.johnToken, []int64{team.technical.ID}},
		{&team.gary, &team.garyToken, []int64{team.technical.ID, team.sales.ID}},
	} {
		login := "s" + uniq()
		st, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example", Role: billing.RoleStaff,
			Permissions: []string{}}, "no-password")
		require.NoError(b.t, err)
		require.NoError(b.t, b.store.SetStaffDepartments(ctx, st.ID, m.depts))
		*m.staff, *m.token = st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
	}
	return team
}

// taskIDs returns the IDs of the tasks a list answered.
func taskIDs(t *testing.T, body map[string]any) []string {
	t.Helper()
	items, ok := body["items"].([]any)
	require.True(t, ok, "%v", body)
	ids := []string{}
	for _, it := range items {
		ids = append(ids, jsonID(it))
	}
	return ids
}

// TestTasksScopedToDepartments: John sees, creates and changes only the
// tasks of technical support; Gary those of both his departments; an admin
// all; a client none. Another department's task answers 404, as if it did
// not exist, and never shows in a list.
func TestTasksScopedToDepartments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	create := func(token string, dept int64, title string) (int, map[string]any) {
		return b.doAs(token, "POST", "/api/v1/tasks", fmt.Sprintf(`{"department_id": %d, "title": %q}`, dept, title))
	}
	status, body := create(team.garyToken, team.sales.ID, "Call back about the offer")
	require.Equal(t, http.StatusCreated, status, "%v", body)
	salesTask := jsonID(body)
	require.Equal(t, billing.TaskOpen, body["status"])
	require.Equal(t, float64(team.gary.ID), body["created_by_id"])
	status, body = create(team.johnToken, team.technical.ID, "Check the mail server")
	require.Equal(t, http.StatusCreated, status, "%v", body)
	techTask := jsonID(body)

	status, body = create(team.johnToken, team.sales.ID, "Not mine")
	require.Equal(t, http.StatusForbidden, status, "John is not in sales: %v", body)

	for _, tc := range []struct {
		who, token string
		sees       map[string]bool
	}{
		{"John", team.johnToken, map[string]bool{techTask: true, salesTask: false}},
		{"Gary", team.garyToken, map[string]bool{techTask: true, salesTask: true}},
		{"an admin", b.token, map[string]bool{techTask: true, salesTask: true}},
	} {
		for id, sees := range tc.sees {
			status, body := b.doAs(tc.token, "GET", "/api/v1/tasks/"+id, "")
			status2, body2 := b.doAs(tc.token, "PATCH", "/api/v1/tasks/"+id, `{"status": "in_progress"}`)
			if sees {
				require.Equal(t, http.StatusOK, status, "%s reads task %s: %v", tc.who, id, body)
				require.Equal(t, http.StatusOK, status2, "%s changes task %s: %v", tc.who, id, body2)
			} else {
				require.Equal(t, http.StatusNotFound, status, "%s reads task %s: %v", tc.who, id, body)
				require.Equal(t, http.StatusNotFound, status2, "%s changes task %s: %v", tc.who, id, body2)
			}
		}
		status, body := b.doAs(tc.token, "GET", "/api/v1/tasks?limit=200", "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		listed := taskIDs(t, body)
		for id, sees := range tc.sees {
			require.Equal(t, sees, contains(listed, id), "%s lists task %s", tc.who, id)
		}
	}
	status, body = b.doAs(team.johnToken, "GET", fmt.Sprint("/api/v1/tasks?department_id=", team.sales.ID), "")
	require.Equal(t, http.StatusNotFound, status, "John filters by sales: %v", body)
	status, body = b.doAs(team.garyToken, "GET", fmt.Sprint("/api/v1/tasks?department_id=", team.sales.ID), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, []string{salesTask}, taskIDs(t, body))

	// A staff member of no department sees no task at all.
	nobody := b.staffSession(billing.RoleStaff, billing.Permissions...)
	status, body = b.doAs(nobody, "GET", "/api/v1/tasks?limit=200", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.False(t, contains(taskIDs(t, body), techTask) || contains(taskIDs(t, body), salesTask), "%v", body)

	cid, _ := b.newCustomer()
	status, _ = b.doAs(b.clientOf(cid), "GET", "/api/v1/tasks", "")
	require.Equal(t, http.StatusForbidden, status)
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// newTicket inserts a ticket of customer cid in department dept with SQL
// (the ticket API is built in parallel) and returns its ID.
func (b *bundle) newTicket(cid string, dept int64) int64 {
	b.t.Helper()
	var id int64
	require.NoError(b.t, b.store.Pool().QueryRow(b.t.Context(), `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, 'Help', $3) RETURNING id`, mustID(b.t, cid), dept, "r"+uniq()+uniq()).Scan(&id))
	return id
}

// TestTaskFields: each bad field is refused with its field error and
// creates nothing; the assignee must be an active member of the task's
// department; a link to another department's ticket is as unknown as a
// missing one; null clears the assignee and the due date; a due date in
// the past is allowed.
func TestTaskFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	cid, _ := b.newCustomer()
	techTicket, salesTicket := b.newTicket(cid, team.technical.ID), b.newTicket(cid, team.sales.ID)
	login := "d" + uniq()
	disabled, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}}, "no-password")
	require.NoError(t, err)
	require.NoError(t, b.store.SetStaffDepartments(t.Context(), disabled.ID, []int64{team.technical.ID}))
	_, err = b.store.Pool().Exec(t.Context(), "UPDATE staff SET status = 'disabled' WHERE id = $1", disabled.ID)
	require.NoError(t, err)
	tech := team.technical.ID
	for _, tc := range []struct {
		body, field string
	}{
		{fmt.Sprintf(`{"department_id": %d, "title": " "}`, tech), "title"},
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "status": "later"}`, tech), "status"},
		{`{"department_id": 999999999, "title": "T"}`, "department_id"},
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "assignee_id": %d}`, tech, team.gary.ID+1000000), "assignee_id"},
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "assignee_id": %d}`, team.sales.ID, team.john.ID), "assignee_id"}, // not in sales
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "assignee_id": %d}`, tech, disabled.ID), "assignee_id"},
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "ticket_id": 999999999}`, tech), "ticket_id"},
		{fmt.Sprintf(`{"department_id": %d, "title": "T", "customer_id": 999999999}`, tech), "customer_id"},
	} {
		status, body := b.doAs(team.garyToken, "POST", "/api/v1/tasks", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", tc.body, body)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, tc.field, "%s", tc.body)
	}
	// John doesn't see the sales ticket: linking it is refused like a missing one.
	status, body := b.doAs(team.johnToken, "POST", "/api/v1/tasks", fmt.Sprintf(`{"department_id": %d, "title": "T", "ticket_id": %d}`, tech, salesTicket))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, msg, fields := errorOf(t, body)
	require.Equal(t, fmt.Sprintf("ticket %d does not exist", salesTicket), fields["ticket_id"], msg)
	status, body = b.doAs(team.johnToken, "GET", "/api/v1/tasks?limit=200", "")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, taskIDs(t, body), "no refused task was created")

	status, body = b.doAs(team.johnToken, "POST", "/api/v1/tasks", fmt.Sprintf(`{"department_id": %d, "title": "Restart the VM",
		"description": "Line one\nLine two", "assignee_id": %d, "due_at": "2020-01-01T00:00:00Z", "ticket_id": %d, "customer_id": %s}`,
		tech, team.gary.ID, techTicket, cid))
	require.Equal(t, http.StatusCreated, status, "a past due date is allowed: %v", body)
	task := "/api/v1/tasks/" + jsonID(body)
	require.Equal(t, float64(team.gary.ID), body["assignee_id"])
	require.Equal(t, float64(techTicket), body["ticket_id"])
	require.Equal(t, "2020-01-01T00:00:00Z", body["due_at"])

	status, body = b.doAs(team.johnToken, "PATCH", task, fmt.Sprintf(`{"assignee_id": %d}`, disabled.ID))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.doAs(team.johnToken, "PATCH", task, `{"title": ""}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.doAs(team.johnToken, "PATCH", task, `{"assignee_id": "John"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, _, fields = errorOf(t, body)
	require.Contains(t, fields, "assignee_id")
	status, body = b.doAs(team.johnToken, "PATCH", task, `{"due_at": "tomorrow"}`) // like every date field of the API
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, _, fields = errorOf(t, body)
	require.Contains(t, fields["due_at"], "RFC 3339")
	status, body = b.doAs(team.johnToken, "PATCH", task, `{"status": "done"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, float64(team.gary.ID), body["assignee_id"], "left out: unchanged")
	require.Equal(t, "2020-01-01T00:00:00Z", body["due_at"])
	status, body = b.doAs(team.johnToken, "PATCH", task, `{"assignee_id": null, "due_at": null}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Nil(t, body["assignee_id"], "null clears")
	require.Nil(t, body["due_at"])
	require.Equal(t, billing.TaskDone, body["status"])
	require.Equal(t, "Restart the VM", body["title"])

	status, body = b.doAs(team.johnToken, "GET", fmt.Sprintf("/api/v1/tasks?status=done&assignee_id=%d", team.gary.ID), "")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, taskIDs(t, body), "unassigned now")
	status, body = b.doAs(team.johnToken, "GET", "/api/v1/tasks?status=done", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []string{strings.TrimPrefix(task, "/api/v1/tasks/")}, taskIDs(t, body))
}
