package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// replyStaff creates a staff member named name (login too, made unique)
// with perms, a member of departments, and returns them with a session.
func (b *bundle) replyStaff(name string, departments []int64, perms ...string) (billing.Staff, string) {
	b.t.Helper()
	login := name + uniq()
	st, err := b.store.CreateStaff(b.t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example", Name: name,
		Role: billing.RoleStaff, Permissions: append([]string{}, perms...)}, "no-password")
	require.NoError(b.t, err)
	require.NoError(b.t, b.store.SetStaffDepartments(b.t.Context(), st.ID, departments))
	return st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
}

// replyDepartment creates a department named name (made unique).
func (b *bundle) replyDepartment(name string) billing.Department {
	b.t.Helper()
	name += " " + uniq()
	d, err := b.store.CreateDepartment(b.t.Context(), billing.DepartmentInput{Name: &name})
	require.NoError(b.t, err)
	return d
}

// ticketFor inserts a ticket of customer in department, opened by user
// (0: by staff), straight into the table: tickets are another part's code.
func ticketFor(t *testing.T, st *store.Store, customerID, departmentID, userID int64, subject string) int64 {
	t.Helper()
	var opener *int64
	if userID != 0 {
		opener = &userID
	}
	var id int64
	err := st.Pool().QueryRow(t.Context(), `INSERT INTO tickets (customer_id, department_id, subject, opened_by_user_id, reply_token)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, customerID, departmentID, subject, opener, "rt"+uniq()+uniq()).Scan(&id)
	require.NoError(t, err)
	return id
}

// replyNames lists the names of the replies an answer holds.
func replyNames(t *testing.T, body map[string]any) []string {
	t.Helper()
	items, ok := body["items"].([]any)
	require.True(t, ok, "%v", body)
	names := []string{}
	for _, it := range items {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

// TestPredefinedReplyScopesJohnAndGary is seed 003's example: John is in
// technical support, Gary in technical support and sales. A reply for all
// departments and a technical one are seen by both; a sales one and Gary's
// personal one only by Gary; John, without support.manage, can't write a
// reply for all departments, nor for a department, but can write his own.
func TestPredefinedReplyScopesJohnAndGary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tech, sales := b.replyDepartment("Technical support"), b.replyDepartment("Sales")
	john, johnToken := b.replyStaff("john", []int64{tech.ID})
	gary, garyToken := b.replyStaff("gary", []int64{tech.ID, sales.ID}, billing.PermSupportManage)
	u := uniq() // this test's replies, among other tests'
	create := func(token string, body map[string]any) (int, map[string]any) {
		raw, _ := jsonBody(body)
		return b.doAs(token, "POST", "/api/v1/predefined-replies", raw)
	}
	status, all := create(b.token, map[string]any{"name": "all " + u, "body": "Hello [USER_NAME]"})
	require.Equal(t, http.StatusCreated, status, "%v", all)
	require.Equal(t, billing.ReplyScopeAll, all["scope"])
	status, techReply := create(garyToken, map[string]any{"name": "tech " + u, "body": "Reboot", "department_id": tech.ID})
	require.Equal(t, http.StatusCreated, status, "%v", techReply)
	status, salesReply := create(garyToken, map[string]any{"name": "sales " + u, "body": "Our prices", "department_id": sales.ID})
	require.Equal(t, http.StatusCreated, status, "%v", salesReply)
	status, garys := create(garyToken, map[string]any{"name": "gary " + u, "body": "Gary here", "staff_id": gary.ID})
	require.Equal(t, http.StatusCreated, status, "%v", garys)
	require.Equal(t, billing.ReplyScopePersonal, garys["scope"])

	status, body := create(johnToken, map[string]any{"name": "john all " + u, "body": "Hi"})
	require.Equal(t, http.StatusForbidden, status, "John has no support.manage: %v", body)
	require.Contains(t, body["error"].(map[string]any)["message"], billing.PermSupportManage)
	status, body = create(johnToken, map[string]any{"name": "john tech " + u, "body": "Hi", "department_id": tech.ID})
	require.Equal(t, http.StatusForbidden, status, "%v", body)
	status, body = create(johnToken, map[string]any{"name": "john for gary " + u, "body": "Hi", "staff_id": gary.ID})
	require.Equal(t, http.StatusForbidden, status, "only an admin writes another's personal reply: %v", body)
	status, johns := create(johnToken, map[string]any{"name": "john " + u, "body": "John here", "staff_id": john.ID})
	require.Equal(t, http.StatusCreated, status, "%v", johns)

	// ours keeps this test's replies among the names (other tests' all-department replies show too).
	ours := func(names []string) []string {
		return slices.DeleteFunc(names, func(n string) bool {
			return !slices.Contains([]string{"all " + u, "tech " + u, "sales " + u, "gary " + u, "john " + u}, n)
		})
	}
	mine := func(token string) []string {
		status, body := b.doAs(token, "GET", "/api/v1/predefined-replies?limit=200", "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		return ours(replyNames(t, body))
	}
	require.Equal(t, []string{"all " + u, "john " + u, "tech " + u}, mine(johnToken))
	require.Equal(t, []string{"all " + u, "gary " + u, "sales " + u, "tech " + u}, mine(garyToken))

	get := func(token string, r map[string]any) int {
		status, _ := b.doAs(token, "GET", "/api/v1/predefined-replies/"+jsonID(r), "")
		return status
	}
	require.Equal(t, http.StatusOK, get(johnToken, techReply))
	require.Equal(t, http.StatusNotFound, get(johnToken, salesReply), "John is not in sales")
	require.Equal(t, http.StatusNotFound, get(johnToken, garys), "Gary's own")
	require.Equal(t, http.StatusNotFound, get(garyToken, johns), "John's own")
	require.Equal(t, http.StatusOK, get(b.token, garys), "an admin reads the personal replies it keeps")

	status, body = b.doAs(garyToken, "GET", fmt.Sprint("/api/v1/predefined-replies?limit=200&department_id=", sales.ID), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, []string{"sales " + u}, replyNames(t, body))
	status, body = b.doAs(johnToken, "GET", fmt.Sprint("/api/v1/predefined-replies?department_id=", sales.ID), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Empty(t, replyNames(t, body), "a department John is not in shows him nothing")
	status, _ = b.doAs(johnToken, "GET", fmt.Sprint("/api/v1/predefined-replies?staff_id=", gary.ID), "")
	require.Equal(t, http.StatusForbidden, status)
	status, body = b.do("GET", fmt.Sprint("/api/v1/predefined-replies?staff_id=", gary.ID), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, []string{"gary " + u}, replyNames(t, body), "an admin lists a staff member's personal replies")

	// In a ticket: the ticket's department's replies, all departments' and the caller's own.
	customer, _ := b.newCustomer()
	customerID, err := strconv.ParseInt(customer, 10, 64)
	require.NoError(t, err)
	salesTicket := ticketFor(t, b.store, customerID, sales.ID, 0, "Prices")
	techTicket := ticketFor(t, b.store, customerID, tech.ID, 0, "Down")
	inTicket := func(token string, ticket int64) (int, []string) {
		status, body := b.doAs(token, "GET", fmt.Sprint("/api/v1/tickets/", ticket, "/predefined-replies?limit=200"), "")
		if status != http.StatusOK {
			return status, nil
		}
		return status, ours(replyNames(t, body))
	}
	status, _ = inTicket(johnToken, salesTicket)
	require.Equal(t, http.StatusNotFound, status, "John doesn't see a sales ticket")
	status, names := inTicket(johnToken, techTicket)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []string{"all " + u, "john " + u, "tech " + u}, names)
	status, names = inTicket(garyToken, salesTicket)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []string{"all " + u, "gary " + u, "sales " + u}, names, "not the technical one in a sales ticket")
}

func jsonBody(v any) (string, error) {
	raw, err := json.Marshal(v)
	return string(raw), err
}

// TestPredefinedReplyFilledForTicket: each variable is filled for the
// ticket and the staff member: the opener's first name, else the main
// user's; the staff member's name, else their login.
func TestPredefinedReplyFilledForTicket(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.replyDepartment("Technical support")
	_, garyToken := b.replyStaff("Gary Stark", []int64{d.ID})
	status, r := b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "filled " + uniq(), "department_id": d.ID,
		"body": "Dear [USER_NAME] ([CUSTOMER_NAME]), ticket #[TICKET_ID] \"[TICKET_SUBJECT]\" in [DEPARTMENT]. [STAFF_NAME] [UNTOUCHED"})
	require.Equal(t, http.StatusCreated, status, "%v", r)

	customer, _ := b.newCustomer() // "Ann Example", main user Ann
	customerID, err := strconv.ParseInt(customer, 10, 64)
	require.NoError(t, err)
	login := "bob" + uniq()
	bob, err := b.store.CreateUser(t.Context(), customerID, billing.UserCreate{Login: login, Email: login + "@example.com",
		FirstName: "Bob", Language: "en"}, "hash")
	require.NoError(t, err)
	filled := func(token string, ticket int64) string {
		status, body := b.doAs(token, "GET", fmt.Sprint("/api/v1/tickets/", ticket, "/predefined-replies?limit=200"), "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		for _, it := range body["items"].([]any) {
			if jsonID(it) == jsonID(r) {
				return it.(map[string]any)["body"].(string)
			}
		}
		t.Fatalf("reply %s not offered in ticket %d: %v", jsonID(r), ticket, body)
		return ""
	}
	byBob := ticketFor(t, b.store, customerID, d.ID, bob.ID, "VPS <down>")
	require.Equal(t, fmt.Sprintf(`Dear Bob (Ann Example), ticket #%d "VPS <down>" in %s. Gary Stark [UNTOUCHED`, byBob, d.Name), filled(garyToken, byBob))
	byStaff := ticketFor(t, b.store, customerID, d.ID, 0, "Invoice")
	require.Equal(t, fmt.Sprintf(`Dear Ann (Ann Example), ticket #%d "Invoice" in %s. Gary Stark [UNTOUCHED`, byStaff, d.Name), filled(garyToken, byStaff),
		"a ticket staff opened: the main user's name")

	status, body := b.doAs(garyToken, "GET", "/api/v1/predefined-replies/"+jsonID(r), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Contains(t, body["body"], "[USER_NAME]", "the reply itself keeps its variables")

	nameless, namelessToken := b.replyStaff("", []int64{d.ID})
	require.Contains(t, filled(namelessToken, byStaff), ". "+nameless.Login+" [UNTOUCHED", "no name: the login")
	status, body = b.doAs(b.token, "GET", fmt.Sprint("/api/v1/tickets/", byStaff+1000000, "/predefined-replies"), "")
	require.Equal(t, http.StatusNotFound, status, "%v", body)
}

// TestPredefinedReplyUnknownVariableRefused: a reply using a variable that
// is not one of the reply variables is refused on save, naming the allowed ones.
func TestPredefinedReplyUnknownVariableRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "typo " + uniq(), "body": "Dear [USER_NAM]"})
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	field := body["error"].(map[string]any)["fields"].(map[string]any)["body"].(string)
	require.Contains(t, field, "[USER_NAM]")
	require.Contains(t, field, "[CUSTOMER_NAME] [USER_NAME] [TICKET_ID] [TICKET_SUBJECT] [DEPARTMENT] [STAFF_NAME]")

	status, body = b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "nodept " + uniq(), "body": "Hi", "department_id": 1 << 50})
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	require.Contains(t, body["error"].(map[string]any)["fields"], "department_id")
}

// TestPredefinedReplyChangeNeedsTheScopesRight: changing or deleting a reply
// needs the right to create it in its scope, as it was and as it will be:
// John can't widen his personal reply to all departments nor change a
// technical one; an admin keeps John's personal reply, which Gary can't see.
func TestPredefinedReplyChangeNeedsTheScopesRight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tech := b.replyDepartment("Technical support")
	john, johnToken := b.replyStaff("john", []int64{tech.ID})
	_, garyToken := b.replyStaff("gary", []int64{tech.ID}, billing.PermSupportManage)
	status, forJohn := b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "for john " + uniq(), "body": "Hi", "staff_id": john.ID})
	require.Equal(t, http.StatusCreated, status, "an admin writes a staff member's personal reply: %v", forJohn)
	path := "/api/v1/predefined-replies/" + jsonID(forJohn)

	put := func(token, path string, v map[string]any) int {
		raw, err := jsonBody(v)
		require.NoError(t, err)
		status, _ := b.doAs(token, "PUT", path, raw)
		return status
	}
	require.Equal(t, http.StatusOK, put(johnToken, path, map[string]any{"name": "mine", "body": "Hello", "staff_id": john.ID}))
	require.Equal(t, http.StatusForbidden, put(johnToken, path, map[string]any{"name": "mine", "body": "Hello"}), "to all departments")
	require.Equal(t, http.StatusForbidden, put(johnToken, path, map[string]any{"name": "mine", "body": "Hello", "department_id": tech.ID}))
	require.Equal(t, http.StatusNotFound, put(garyToken, path, map[string]any{"name": "g", "body": "Hello", "staff_id": john.ID}))
	status, _ = b.doAs(garyToken, "DELETE", path, "")
	require.Equal(t, http.StatusNotFound, status)
	status, body := b.do("GET", path, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Hello", body["body"], "refused changes left it as John wrote it")
	require.Equal(t, billing.ReplyScopePersonal, body["scope"])

	status, techReply := b.doAs(garyToken, "POST", "/api/v1/predefined-replies", fmt.Sprintf(`{"name": "tech %s", "body": "Reboot", "department_id": %d}`, uniq(), tech.ID))
	require.Equal(t, http.StatusCreated, status, "%v", techReply)
	techPath := "/api/v1/predefined-replies/" + jsonID(techReply)
	require.Equal(t, http.StatusForbidden, put(johnToken, techPath, map[string]any{"name": "x", "body": "x", "department_id": tech.ID}))
	status, _ = b.doAs(johnToken, "DELETE", techPath, "")
	require.Equal(t, http.StatusForbidden, status, "John uses it but can't delete it")
	status, _ = b.doAs(garyToken, "DELETE", techPath, "")
	require.Equal(t, http.StatusNoContent, status)
	status, _ = b.doAs(johnToken, "DELETE", path, "")
	require.Equal(t, http.StatusNoContent, status, "John deletes his own")
	status, _ = b.do("GET", path, "")
	require.Equal(t, http.StatusNotFound, status)
}

// TestPredefinedReplyConcurrentChangeSeesTheLatestScope: Gary takes a
// technical reply for himself (personal) while John, a technical manager,
// rewrites it for the department. The scope is checked on the reply as it
// is when written (locked), so John never overwrites what has become
// Gary's personal reply: whichever order they run in, it ends as Gary wrote it.
func TestPredefinedReplyConcurrentChangeSeesTheLatestScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tech := b.replyDepartment("Technical support")
	_, johnToken := b.replyStaff("john", []int64{tech.ID}, billing.PermSupportManage)
	gary, garyToken := b.replyStaff("gary", []int64{tech.ID}, billing.PermSupportManage)
	for range 20 {
		status, r := b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "race " + uniq(), "body": "v0", "department_id": tech.ID})
		require.Equal(t, http.StatusCreated, status, "%v", r)
		path := "/api/v1/predefined-replies/" + jsonID(r)
		var wg sync.WaitGroup
		var johnStatus, garyStatus int
		wg.Add(2)
		go func() {
			defer wg.Done()
			johnStatus, _ = b.doAs(johnToken, "PUT", path, fmt.Sprintf(`{"name": "john", "body": "John's", "department_id": %d}`, tech.ID))
		}()
		go func() {
			defer wg.Done()
			garyStatus, _ = b.doAs(garyToken, "PUT", path, fmt.Sprintf(`{"name": "gary", "body": "Gary's", "staff_id": %d}`, gary.ID))
		}()
		wg.Wait()
		status, got := b.do("GET", path, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, http.StatusOK, garyStatus)
		require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, johnStatus)
		require.Equal(t, "Gary's", got["body"], "John's change (%d) never lands on Gary's personal reply", johnStatus)
		require.Equal(t, billing.ReplyScopePersonal, got["scope"])
	}
}
