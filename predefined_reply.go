package billing

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scopes of a pre-defined reply (seed 003): who may use it.
const (
	ReplyScopeAll        = "all"        // every staff member of all departments
	ReplyScopeDepartment = "department" // every member of one department
	ReplyScopePersonal   = "personal"   // one staff member
)

// ReplyScopes lists the scopes of pre-defined replies.
var ReplyScopes = []string{ReplyScopeAll, ReplyScopeDepartment, ReplyScopePersonal}

// PredefinedReplyVariables are what a pre-defined reply's body may use; they
// are filled for the ticket it is inserted into (TicketReplyFacts).
var PredefinedReplyVariables = []string{"[CUSTOMER_NAME]", "[USER_NAME]", "[TICKET_ID]", "[TICKET_SUBJECT]",
	"[DEPARTMENT]", "[STAFF_NAME]"}

// PredefinedReply is a text staff insert into an answer to a ticket. Its
// scope is all departments (DepartmentID and StaffID nil), one department
// (DepartmentID) or one staff member (StaffID).
type PredefinedReply struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Body         string `json:"body"`
	Scope        string `json:"scope"`
	DepartmentID *int64 `json:"department_id"`
	StaffID      *int64 `json:"staff_id"`
	// CreatedByID is the staff member who wrote it (nil once deleted).
	CreatedByID *int64    `json:"created_by_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ReplyScope names the scope of a reply for department departmentID and staff member staffID.
func ReplyScope(departmentID, staffID *int64) string {
	switch {
	case staffID != nil:
		return ReplyScopePersonal
	case departmentID != nil:
		return ReplyScopeDepartment
	}
	return ReplyScopeAll
}

// UsableBy reports whether p may use r in answers: any staff member an
// all-department reply, the members of its department (and admins) a
// department's, only its owner a personal one.
func (r PredefinedReply) UsableBy(p Principal) bool {
	switch {
	case !p.IsStaff():
		return false
	case r.StaffID != nil:
		return *r.StaffID == p.StaffID
	case r.DepartmentID != nil:
		return p.SeesDepartment(*r.DepartmentID)
	}
	return true
}

// VisibleTo reports whether p may read r by its ID: a reply p may use, or,
// for an admin, another staff member's personal one (which the admin keeps).
func (r PredefinedReply) VisibleTo(p Principal) bool {
	return r.UsableBy(p) || p.IsStaff() && p.Role == RoleAdmin
}

// CheckKeeper refuses (403) p creating, changing or deleting a reply of r's
// scope, so that nobody grants what they don't hold: a reply for all
// departments needs support.manage; one for a department support.manage
// and membership of it (an admin: any); a personal one its owner or an admin.
func (r PredefinedReply) CheckKeeper(p Principal) error {
	switch {
	case !p.IsStaff():
		return Errorf(EFORBIDDEN, "only staff keep pre-defined replies")
	case r.StaffID != nil:
		if *r.StaffID != p.StaffID && p.Role != RoleAdmin {
			return Errorf(EFORBIDDEN, "only an admin keeps another staff member's personal replies; a personal reply of your own has staff_id %d", p.StaffID)
		}
	case !p.Can(PermSupportManage):
		return Errorf(EFORBIDDEN, "a reply for %s needs the staff permission %q; a personal reply (staff_id %d) needs none",
			map[bool]string{true: "a department", false: "all departments"}[r.DepartmentID != nil], PermSupportManage, p.StaffID)
	case r.DepartmentID != nil && !p.SeesDepartment(*r.DepartmentID):
		return Errorf(EFORBIDDEN, "you are not a member of department %d, so you can't keep its replies", *r.DepartmentID)
	}
	return nil
}

// PredefinedReplyInput is a reply as staff create or replace it. Leave
// department_id and staff_id out for a reply for all departments.
type PredefinedReplyInput struct {
	Name         string `json:"name"`
	Body         string `json:"body"`
	DepartmentID *int64 `json:"department_id"`
	StaffID      *int64 `json:"staff_id"`
}

// Limits of a pre-defined reply.
const (
	maxReplyName      = 100
	maxReplyBodyChars = 20000
)

// Validate checks a reply: a name, a body that uses only the reply
// variables (a typo such as [USER_NAM] is caught now, not when a client
// reads it), and at most one of department_id and staff_id.
func (in PredefinedReplyInput) Validate() error {
	var v Validator
	v.Text("name", in.Name, maxReplyName)
	v.Check(strings.TrimSpace(in.Body) != "", "body", "is required")
	v.LongText("body", in.Body, maxReplyBodyChars)
	checkReplyVariables(&v, in.Body)
	v.Check(in.DepartmentID == nil || *in.DepartmentID > 0, "department_id", "must be a department's ID")
	v.Check(in.StaffID == nil || *in.StaffID > 0, "staff_id", "must be a staff member's ID")
	v.Check(in.DepartmentID == nil || in.StaffID == nil, "staff_id",
		"a reply is for one department (department_id) or one staff member (staff_id), not both")
	return v.Err()
}

// Reply returns the reply in describes.
func (in PredefinedReplyInput) Reply() PredefinedReply {
	return PredefinedReply{Name: in.Name, Body: in.Body, DepartmentID: in.DepartmentID, StaffID: in.StaffID,
		Scope: ReplyScope(in.DepartmentID, in.StaffID)}
}

// replyVariableRE finds what may be meant as a variable, in any case and
// with spaces ([user_name], [User Name]): only the exact capitals are filled.
var replyVariableRE = regexp.MustCompile(`\[[A-Za-z][A-Za-z0-9_ ]*\]`)

// exactVariableRE is what a variable looks like: capitals, digits and _.
var exactVariableRE = regexp.MustCompile(`^\[[A-Z][A-Z0-9_]*\]$`)

func checkReplyVariables(v *Validator, body string) {
	for _, m := range replyVariableRE.FindAllString(body, -1) {
		if slices.Contains(PredefinedReplyVariables, m) {
			continue
		}
		if want := strings.ToUpper(strings.ReplaceAll(m, " ", "_")); slices.Contains(PredefinedReplyVariables, want) {
			v.Check(false, "body", fmt.Sprintf("uses %s, which is not a variable: write it %s", m, want))
		} else if exactVariableRE.MatchString(m) {
			v.Check(false, "body", fmt.Sprintf("uses %s, which is not a variable of pre-defined replies; they are %s",
				m, strings.Join(PredefinedReplyVariables, " ")))
		}
	}
}

// TicketReplyFacts are what a reply's variables are filled with in one
// ticket, for the staff member inserting it.
type TicketReplyFacts struct {
	TicketID      int64
	DepartmentID  int64
	TicketSubject string
	CustomerName  string
	// UserName is the first name of the user who opened the ticket, else
	// of the customer's main user.
	UserName   string
	Department string
	// StaffName is the staff member's name, else their login.
	StaffName string
}

// Values returns the value of every reply variable.
func (f TicketReplyFacts) Values() map[string]string {
	return map[string]string{"[CUSTOMER_NAME]": f.CustomerName, "[USER_NAME]": f.UserName,
		"[TICKET_ID]": strconv.FormatInt(f.TicketID, 10), "[TICKET_SUBJECT]": f.TicketSubject,
		"[DEPARTMENT]": f.Department, "[STAFF_NAME]": f.StaffName}
}
