package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
)

// TestStaffNotificationSettings: every staff event is on until turned off;
// a member reads and sets their own, not another's without staff.manage;
// staff.manage doesn't reach an admin's; a PUT replaces the settings (the
// events left out are on again); a name that is no staff event is a 422
// naming it; the notices follow the settings.
func TestStaffNotificationSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	member := func(role string, perms ...string) (billing.Staff, string) {
		login := "s" + uniq()
		st, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example", Name: login,
			Role: role, Permissions: append([]string{}, perms...)}, "no-password")
		require.NoError(t, err)
		return st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
	}
	john, johnToken := member(billing.RoleStaff)
	gary, garyToken := member(billing.RoleStaff, billing.PermStaffManage)
	admin, _ := member(billing.RoleAdmin)
	path := func(s billing.Staff) string { return fmt.Sprint("/api/v1/staff/", s.ID, "/notification-settings") }
	settings := func(body map[string]any) map[string]bool {
		out := map[string]bool{}
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			out[m["event"].(string)] = m["enabled"].(bool)
		}
		return out
	}
	allOn := map[string]bool{"ticket_assigned": true, "ticket_client_post": true, "ticket_staff_post": true, "task_created": true}

	code, body := b.doAs(johnToken, "GET", path(john), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, allOn, settings(body))
	code, body = b.doAs(johnToken, "PUT", path(john), `{"events": {"ticket_client_post": false, "task_created": false}}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, map[string]bool{"ticket_assigned": true, "ticket_client_post": false, "ticket_staff_post": true,
		"task_created": false}, settings(body))

	code, _ = b.doAs(johnToken, "GET", path(gary), "")
	require.Equal(t, http.StatusForbidden, code, "another's needs staff.manage")
	code, _ = b.doAs(johnToken, "PUT", path(gary), `{"events": {}}`)
	require.Equal(t, http.StatusForbidden, code)
	code, body = b.doAs(garyToken, "PUT", path(john), `{"events": {"task_created": false}}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, map[string]bool{"ticket_assigned": true, "ticket_client_post": true, "ticket_staff_post": true,
		"task_created": false}, settings(body), "replaced: ticket_client_post is on again")
	code, _ = b.doAs(garyToken, "PUT", path(admin), `{"events": {}}`)
	require.Equal(t, http.StatusForbidden, code, "only an admin changes an admin's")
	code, body = b.do("PUT", path(admin), `{"events": {"ticket_reply": false}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "events.ticket_reply", "a client event is not a staff member's to turn off")
	code, _ = b.do("GET", "/api/v1/staff/999999999/notification-settings", "")
	require.Equal(t, http.StatusNotFound, code)

	// The notices follow: John (task_created off) gets none of a new task, Gary does.
	name := "Technical " + uniq()
	dept, err := b.store.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	for _, s := range []billing.Staff{john, gary} {
		require.NoError(t, b.store.SetStaffDepartments(ctx, s.ID, []int64{dept.ID}))
	}
	task := billing.Task{ID: 800000000 + john.ID, DepartmentID: dept.ID, Title: "Rack the new node", CreatedByID: admin.ID}
	require.NoError(t, b.store.Tx(ctx, func(tx *store.Store) error { return activities.QueueTaskCreated(ctx, tx, task, "en") }))
	var to []string
	rows, err := b.store.Pool().Query(ctx, `SELECT recipient FROM notices WHERE object_type = 'task' AND object_id = $1`, fmt.Sprint(task.ID))
	require.NoError(t, err)
	for rows.Next() {
		var r string
		require.NoError(t, rows.Scan(&r))
		to = append(to, r)
	}
	require.Equal(t, []string{gary.Email}, to)
}

// TestClientsNeverListStaffNotices: a staff notice has no customer: the
// notification log shows it to staff (staff_id, customer_id null), never to
// a client, whose list stays their own.
func TestClientsNeverListStaffNotices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	cust, _ := b.newCustomer()
	login := "s" + uniq()
	john, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example", Name: "John",
		Role: billing.RoleStaff, Permissions: []string{}}, "no-password")
	require.NoError(t, err)
	name := "Technical " + uniq()
	dept, err := b.store.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	require.NoError(t, b.store.SetStaffDepartments(ctx, john.ID, []int64{dept.ID}))
	var ticket billing.Ticket
	ticket.CustomerID, ticket.DepartmentID, ticket.Subject, ticket.ReplyToken, ticket.Status = mustID(t, cust), dept.ID, "Help", uniq(), billing.TicketOpen
	require.NoError(t, b.store.Pool().QueryRow(ctx, `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, $3, $4) RETURNING id`, ticket.CustomerID, ticket.DepartmentID, ticket.Subject, ticket.ReplyToken).Scan(&ticket.ID))
	require.NoError(t, b.store.Tx(ctx, func(tx *store.Store) error {
		return activities.QueueTicketNotices(ctx, tx, activities.TicketNotice{Ticket: ticket, Opened: true}, "en")
	}))

	code, body := b.do("GET", fmt.Sprint("/api/v1/notifications?staff_id=", john.ID), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Len(t, body["items"], 1, "staff list it")
	mine := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, john.Email, mine["recipient"])
	require.Nil(t, mine["customer_id"])
	require.Equal(t, float64(john.ID), mine["staff_id"])
	require.Equal(t, "ticket", mine["object_type"])

	client := b.clientOf(cust)
	code, body = b.doAs(client, "GET", "/api/v1/notifications?event=ticket_assigned", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Empty(t, body["items"], "a client never lists a staff notice, not even about their own ticket")
	code, body = b.doAs(client, "GET", "/api/v1/notifications", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	for _, it := range body["items"].([]any) {
		require.Equal(t, cust, jsonString(it.(map[string]any)["customer_id"]))
	}
}
