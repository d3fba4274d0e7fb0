package api_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

// The rights a staff member can have in the privilege matrix, as a caller or
// as the member changed.
var staffRights = map[string]struct {
	role  string
	perms []string
}{
	"manager":        {billing.RoleStaff, []string{billing.PermStaffManage}},
	"manager+ledger": {billing.RoleStaff, []string{billing.PermStaffManage, billing.PermLedgerWrite}},
	"plain":          {billing.RoleStaff, []string{}},
	"ledger":         {billing.RoleStaff, []string{billing.PermLedgerWrite}},
	"admin":          {billing.RoleAdmin, []string{}},
}

// staffChanges are the fields of PATCH /staff/{id}, one change each.
var staffChanges = map[string]string{
	"name":             `{"name": "Renamed"}`,
	"email":            `{"email": "renamed-%s@staff.example"}`,
	"password":         `{"password": "a-new-password-123"}`,
	"role admin":       `{"role": "admin"}`,
	"role staff":       `{"role": "staff"}`,
	"add ledger.write": `{"permissions": %s}`,
	"drop permissions": `{"permissions": []}`,
	"disable":          `{"status": "disabled"}`,
}

// expectStaffChange is the README's rule, written out independently of the
// code: nobody grants what they don't hold, only an admin changes an admin,
// a member's email and password are theirs (or an admin's) to change, and a
// non-admin manages only members whose every permission they hold.
func expectStaffChange(caller, target, change string) int {
	c, t := staffRights[caller], staffRights[target]
	self := target == "self"
	if self {
		t = c
	}
	if self && (change == "disable" || (change == "role staff" && c.role == billing.RoleAdmin)) {
		return http.StatusConflict // nobody disables or demotes themselves
	}
	if c.role == billing.RoleAdmin {
		return http.StatusOK
	}
	holds := func(perm string) bool { return slices.Contains(c.perms, perm) }
	switch {
	case !self && !holds(billing.PermStaffManage):
		return http.StatusForbidden
	case t.role == billing.RoleAdmin, change == "role admin":
		return http.StatusForbidden
	case !self && slices.ContainsFunc(t.perms, func(p string) bool { return !holds(p) }):
		return http.StatusForbidden // the member has rights the caller lacks
	case !self && (change == "email" || change == "password"):
		return http.StatusForbidden
	case change == "add ledger.write" && !holds(billing.PermLedgerWrite):
		return http.StatusForbidden
	}
	return http.StatusOK
}

// TestStaffPrivilegeMatrix sends every change to every kind of member as
// every kind of caller, each in a fresh world, and checks the status and that
// a refused change changed nothing (nor signed anybody out).
func TestStaffPrivilegeMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	newStaff := func(rights string) (billing.Staff, string) {
		r := staffRights[rights]
		login := "pm" + uniq()
		st, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example",
			Role: r.role, Permissions: append([]string{}, r.perms...)}, "old-hash")
		require.NoError(t, err)
		return st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
	}
	callers := []string{"manager", "manager+ledger", "plain", "admin"}
	targets := []string{"plain", "ledger", "manager+ledger", "admin", "self"}
	for _, caller := range callers {
		for _, target := range targets {
			for change, body := range staffChanges {
				name := fmt.Sprintf("%s changes %s: %s", caller, target, change)
				me, token := newStaff(caller)
				member, memberToken := me, token
				if target != "self" {
					member, memberToken = newStaff(target)
				}
				perms := slices.Clone(member.Permissions)
				if !slices.Contains(perms, billing.PermLedgerWrite) {
					perms = append(perms, billing.PermLedgerWrite)
				}
				switch change {
				case "email":
					body = fmt.Sprintf(body, uniq())
				case "add ledger.write":
					body = fmt.Sprintf(body, mustJSON(perms))
				}
				want := expectStaffChange(caller, target, change)
				status, res := b.doAs(token, "PATCH", fmt.Sprint("/api/v1/staff/", member.ID), body)
				require.Equal(t, want, status, "%s: %v", name, res)

				after, err := b.store.StaffMember(ctx, member.ID)
				require.NoError(t, err)
				_, hash, _ := b.store.StaffCredentials(ctx, member.Login)
				if status != http.StatusOK {
					require.Equal(t, member, after, "%s: a refused change changes nothing", name)
					require.Equal(t, "old-hash", hash, "%s: the password is unchanged", name)
					status, _ := b.doAs(memberToken, "GET", "/api/v1/auth/me", "")
					require.Equal(t, http.StatusOK, status, "%s: a refused change signs nobody out", name)
					continue
				}
				switch change {
				case "role admin":
					require.Equal(t, billing.RoleAdmin, after.Role, name)
				case "add ledger.write":
					require.Contains(t, after.Permissions, billing.PermLedgerWrite, name)
				case "password":
					require.NotEqual(t, "old-hash", hash, name)
				case "disable":
					require.Equal(t, billing.StaffDisabled, after.Status, name)
				}
			}
		}
	}
}

// TestStaffCreateMatrix: only an admin creates an admin, and nobody gives a
// new member a permission they don't hold themselves.
func TestStaffCreateMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tokens := map[string]string{
		"manager":        b.staffSession(billing.RoleStaff, billing.PermStaffManage),
		"manager+ledger": b.staffSession(billing.RoleStaff, billing.PermStaffManage, billing.PermLedgerWrite),
		"plain":          b.staffSession(billing.RoleStaff),
		"admin":          b.staffSession(billing.RoleAdmin),
	}
	asked := map[string]string{
		"an admin":           `"role": "admin"`,
		"a plain member":     `"permissions": []`,
		"a manager":          `"permissions": ["staff.manage"]`,
		"a ledger writer":    `"permissions": ["ledger.write"]`,
		"a full-rights user": `"permissions": ` + mustJSON(billing.Permissions),
	}
	want := map[string]map[string]int{
		"manager":        {"an admin": 403, "a plain member": 201, "a manager": 201, "a ledger writer": 403, "a full-rights user": 403},
		"manager+ledger": {"an admin": 403, "a plain member": 201, "a manager": 201, "a ledger writer": 201, "a full-rights user": 403},
		"plain":          {"an admin": 403, "a plain member": 403, "a manager": 403, "a ledger writer": 403, "a full-rights user": 403},
		"admin":          {"an admin": 201, "a plain member": 201, "a manager": 201, "a ledger writer": 201, "a full-rights user": 201},
	}
	for caller, token := range tokens {
		for what, fields := range asked {
			login := "nc" + uniq()
			status, res := b.doAs(token, "POST", "/api/v1/staff",
				`{"login": "`+login+`", "email": "`+login+`@staff.example", `+fields+`}`)
			require.Equal(t, want[caller][what], status, "%s creates %s: %v", caller, what, res)
			_, _, err := b.store.StaffCredentials(t.Context(), login)
			if status != http.StatusCreated {
				require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "%s creates %s: refused, nothing written", caller, what)
			}
		}
	}
}

// TestStaffTakeoverRequests are the four requests of the report, as sent.
func TestStaffTakeoverRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	hash, err := password.Hash("the-admins-password")
	require.NoError(t, err)
	login := "ad" + uniq()
	admin, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleAdmin, Permissions: []string{}}, hash)
	require.NoError(t, err)
	adminToken := b.signIn("/api/v1/auth/staff/login", login, "the-admins-password")

	mLogin := "mg" + uniq()
	manager, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: mLogin, Email: mLogin + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{billing.PermStaffManage}}, "x")
	require.NoError(t, err)
	token := b.session(store.Session{Kind: billing.ActorStaff, StaffID: manager.ID})
	self := fmt.Sprint("/api/v1/staff/", manager.ID)

	for _, r := range []struct{ method, path, body string }{
		{"PATCH", self, `{"role": "admin"}`},
		{"PATCH", self, `{"permissions": ["staff.manage", "ledger.write"]}`},
		{"POST", "/api/v1/staff", `{"login": "evil` + uniq() + `", "email": "evil` + uniq() + `@x.example", "role": "admin", "password": "evil-password-123"}`},
		{"PATCH", fmt.Sprint("/api/v1/staff/", admin.ID), `{"password": "taken-over-123"}`},
		{"PATCH", fmt.Sprint("/api/v1/staff/", admin.ID), `{"email": "attacker@x.example"}`},
	} {
		status, res := b.doAs(token, r.method, r.path, r.body)
		require.Equal(t, http.StatusForbidden, status, "%s %s %s: %v", r.method, r.path, r.body, res)
		code, _, _ := errorOf(t, res)
		require.Equal(t, "forbidden", code)
	}
	after, err := b.store.StaffMember(ctx, manager.ID)
	require.NoError(t, err)
	require.Equal(t, manager, after, "the manager is still a manager and nothing more")
	b.signIn("/api/v1/auth/staff/login", login, "the-admins-password") // the password still works
	status, _ := b.doAs(adminToken, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusOK, status, "the admin is still signed in")

	// Revoking an admin's API key is changing the admin: refused too.
	key, err := b.store.CreateAPIKey(ctx, admin.ID, "ci", "bk_xxxx", []byte(uniq()))
	require.NoError(t, err)
	status, res := b.doAs(token, "DELETE", fmt.Sprint("/api/v1/api-keys/", key.ID), "")
	require.Equal(t, http.StatusForbidden, status, "%v", res)
	plain, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: "pl" + uniq(), Email: uniq() + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}}, "x")
	require.NoError(t, err)
	plainKey, err := b.store.CreateAPIKey(ctx, plain.ID, "ci", "bk_xxxx", []byte(uniq()))
	require.NoError(t, err)
	status, res = b.doAs(token, "DELETE", fmt.Sprint("/api/v1/api-keys/", plainKey.ID), "")
	require.Equal(t, http.StatusOK, status, "a manager revokes the key of a member with fewer rights: %v", res)
}

// TestStaffChangesOwnProfile: any staff member changes their own name, email
// and password without staff.manage, and nothing else.
func TestStaffChangesOwnProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "own" + uniq()
	me, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{billing.PermCustomersRead}}, "x")
	require.NoError(t, err)
	token := b.session(store.Session{Kind: billing.ActorStaff, StaffID: me.ID})
	other := b.session(store.Session{Kind: billing.ActorStaff, StaffID: me.ID})
	path := fmt.Sprint("/api/v1/staff/", me.ID)
	status, res := b.doAs(token, "PATCH", path, `{"name": "Me", "email": "me-`+uniq()+`@staff.example", "password": "my-own-password-1"}`)
	require.Equal(t, http.StatusOK, status, "%v", res)
	status, _ = b.doAs(token, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusOK, status, "the session that changed the password goes on")
	status, _ = b.doAs(other, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusUnauthorized, status, "the member's other sessions end")
	b.signIn("/api/v1/auth/staff/login", login, "my-own-password-1")

	status, res = b.doAs(token, "PATCH", path, `{"permissions": ["customers.read", "customers.write"]}`)
	require.Equal(t, http.StatusForbidden, status, "%v", res)
	status, res = b.doAs(token, "PATCH", path, `{"permissions": []}`)
	require.Equal(t, http.StatusOK, status, "giving up a permission is fine: %v", res)
}

// TestREADMEListsEveryPermission keeps the README's list of staff permissions
// equal to the permissions that exist.
func TestREADMEListsEveryPermission(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	row := regexp.MustCompile(`(?m)^\| staff \| what their permissions allow: (.*)$`).FindSubmatch(raw)
	require.NotNil(t, row, "the README has the staff row of \"Who may do what\"")
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z.]+)`").FindAllSubmatch(row[1], -1) {
		listed = append(listed, string(m[1]))
	}
	require.ElementsMatch(t, billing.Permissions, listed)
}

// TestStaffChangesRace: two admins demoting each other at once can't both
// succeed (one admin always remains), and crossed changes by two managers
// never deadlock into a 500. Repeated, since a race is a matter of timing.
func TestStaffChangesRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	member := func(role string, perms ...string) (billing.Staff, string) {
		login := "race" + uniq()
		st, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example",
			Role: role, Permissions: append([]string{}, perms...)}, "x")
		require.NoError(t, err)
		return st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
	}
	both := func(tokenA, pathA, bodyA, tokenB, pathB, bodyB string) (int, int) {
		var wg sync.WaitGroup
		var a, c int
		wg.Go(func() { a, _ = b.doAs(tokenA, "PATCH", pathA, bodyA) })
		wg.Go(func() { c, _ = b.doAs(tokenB, "PATCH", pathB, bodyB) })
		wg.Wait()
		return a, c
	}
	for range 10 {
		x, tx := member(billing.RoleAdmin)
		y, ty := member(billing.RoleAdmin)
		s1, s2 := both(tx, fmt.Sprint("/api/v1/staff/", y.ID), `{"role": "staff"}`, ty, fmt.Sprint("/api/v1/staff/", x.ID), `{"role": "staff"}`)
		require.ElementsMatch(t, []int{http.StatusOK, http.StatusForbidden}, []int{s1, s2}, "one demotion wins, the other finds its caller demoted")
		ax, err := b.store.StaffMember(ctx, x.ID)
		require.NoError(t, err)
		ay, err := b.store.StaffMember(ctx, y.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{billing.RoleAdmin, billing.RoleStaff}, []string{ax.Role, ay.Role}, "one admin remains")

		m1, t1 := member(billing.RoleStaff, billing.PermStaffManage)
		m2, t2 := member(billing.RoleStaff, billing.PermStaffManage)
		s1, s2 = both(t1, fmt.Sprint("/api/v1/staff/", m2.ID), `{"name": "By m1"}`, t2, fmt.Sprint("/api/v1/staff/", m1.ID), `{"name": "By m2"}`)
		require.Equal(t, []int{http.StatusOK, http.StatusOK}, []int{s1, s2}, "crossed changes both succeed")
	}
}

// TestStaffPermissionsAreValidatedFirst: a permission listed twice or
// misspelled is a 422 for everyone, before any question of rights.
func TestStaffPermissionsAreValidatedFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "pv" + uniq()
	me, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{billing.PermStaffManage}}, "x")
	require.NoError(t, err)
	token := b.session(store.Session{Kind: billing.ActorStaff, StaffID: me.ID})
	for _, perms := range []string{`["staff.manage", "staff.manage"]`, `["Staff.Manage"]`} {
		status, res := b.doAs(token, "PATCH", fmt.Sprint("/api/v1/staff/", me.ID), `{"permissions": `+perms+`}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", perms, res)
		n := "pn" + uniq()
		status, res = b.doAs(token, "POST", "/api/v1/staff", `{"login": "`+n+`", "email": "`+n+`@staff.example", "permissions": `+perms+`}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", perms, res)
	}
}
