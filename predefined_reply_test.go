package billing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func id(n int64) *int64 { return &n }

// TestPredefinedReplyValidate: only the reply variables are allowed in the
// body, a miswritten one is named with how to write it, bracketed prose is
// left alone, and a reply has at most one scope.
func TestPredefinedReplyValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    billing.PredefinedReplyInput
		field string // "" for valid
		says  string
	}{
		{"every variable", billing.PredefinedReplyInput{Name: "Hi", Body: "Dear [USER_NAME] of [CUSTOMER_NAME], #[TICKET_ID] [TICKET_SUBJECT] " +
			"([DEPARTMENT]), [STAFF_NAME]"}, "", ""},
		{"prose in brackets", billing.PredefinedReplyInput{Name: "Hi", Body: "See the log [attached below]."}, "", ""},
		{"unknown variable", billing.PredefinedReplyInput{Name: "Hi", Body: "Dear [USER_NAM]"}, "body",
			"[CUSTOMER_NAME] [USER_NAME] [TICKET_ID] [TICKET_SUBJECT] [DEPARTMENT] [STAFF_NAME]"},
		{"a subscription's variable", billing.PredefinedReplyInput{Name: "Hi", Body: "Your balance: [ACCOUNT_STATE]"}, "body", "[ACCOUNT_STATE]"},
		{"miswritten", billing.PredefinedReplyInput{Name: "Hi", Body: "Dear [user name]"}, "body", "write it [USER_NAME]"},
		{"no body", billing.PredefinedReplyInput{Name: "Hi", Body: " "}, "body", "required"},
		{"no name", billing.PredefinedReplyInput{Body: "Hello"}, "name", "required"},
		{"both scopes", billing.PredefinedReplyInput{Name: "Hi", Body: "Hello", DepartmentID: id(1), StaffID: id(2)}, "staff_id", "not both"},
		{"department 0", billing.PredefinedReplyInput{Name: "Hi", Body: "Hello", DepartmentID: id(0)}, "department_id", "department"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var be *billing.Error
			require.ErrorAs(t, err, &be)
			require.Equal(t, billing.EINVALID, be.Code)
			require.Contains(t, be.Fields[tc.field], tc.says)
		})
	}
}

// TestPredefinedReplyRights: nobody keeps a reply of a scope they don't
// hold (all: support.manage; a department: support.manage and membership,
// an admin any; personal: the owner or an admin), and each scope is usable
// by the right staff.
func TestPredefinedReplyRights(t *testing.T) {
	t.Parallel()
	const tech, sales = 10, 20
	john := billing.Principal{Kind: billing.ActorStaff, StaffID: 1, Role: billing.RoleStaff, DepartmentIDs: []int64{tech}}
	johnManager := john
	johnManager.Permissions = []string{billing.PermSupportManage}
	gary := billing.Principal{Kind: billing.ActorStaff, StaffID: 2, Role: billing.RoleStaff, DepartmentIDs: []int64{tech, sales},
		Permissions: []string{billing.PermSupportManage}}
	admin := billing.Principal{Kind: billing.ActorStaff, StaffID: 3, Role: billing.RoleAdmin}
	client := billing.Principal{Kind: billing.ActorClient, UserID: 1, CustomerID: 1}
	all := billing.PredefinedReply{}
	techReply := billing.PredefinedReply{DepartmentID: id(tech)}
	salesReply := billing.PredefinedReply{DepartmentID: id(sales)}
	garys := billing.PredefinedReply{StaffID: id(2)}
	for _, tc := range []struct {
		who          string
		p            billing.Principal
		r            billing.PredefinedReply
		usable, keep bool
	}{
		{"john, all", john, all, true, false},
		{"john, technical", john, techReply, true, false},
		{"john manager, technical", johnManager, techReply, true, true},
		{"john manager, sales", johnManager, salesReply, false, false},
		{"john, gary's", john, garys, false, false},
		{"gary, all", gary, all, true, true},
		{"gary, sales", gary, salesReply, true, true},
		{"gary, his own", gary, garys, true, true},
		{"admin, sales", admin, salesReply, true, true},
		{"admin, gary's", admin, garys, false, true},
		{"client, all", client, all, false, false},
	} {
		require.Equal(t, tc.usable, tc.r.UsableBy(tc.p), "%s: usable", tc.who)
		err := tc.r.CheckKeeper(tc.p)
		if tc.keep {
			require.NoError(t, err, tc.who)
		} else {
			require.Equal(t, billing.EFORBIDDEN, billing.ErrorCode(err), "%s: keep", tc.who)
		}
	}
	require.True(t, garys.VisibleTo(admin), "an admin reads the personal replies it keeps")
	require.False(t, garys.VisibleTo(john))
}
