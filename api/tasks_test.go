package api_test

import (
	"fmt"
	"net/http"
	"slices"
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
