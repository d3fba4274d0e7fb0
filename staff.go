package billing

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Staff is a member of the provider's staff.
type Staff struct {
	ID          int64    `json:"id"`
	Login       string   `json:"login"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
	Status      string   `json:"status"`
	// DepartmentIDs are the support departments the member belongs to.
	DepartmentIDs []int64   `json:"department_ids"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Staff statuses. A disabled staff member can't sign in; their sessions and keys stop working.
const (
	StaffActive   = "active"
	StaffDisabled = "disabled"
)

// StaffCreate adds a staff member. An empty Password asks for a generated one.
type StaffCreate struct {
	Login       string   `json:"login"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Password    string   `json:"password"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
	// DepartmentIDs are the support departments the member joins.
	DepartmentIDs []int64 `json:"department_ids"`
}

// Validate reports every invalid field of s.
func (s *StaffCreate) Validate() error {
	if s.Role == "" {
		s.Role = RoleStaff
	}
	if s.Permissions == nil {
		s.Permissions = []string{}
	}
	if s.DepartmentIDs == nil {
		s.DepartmentIDs = []int64{}
	}
	var v Validator
	v.Check(loginRE.MatchString(s.Login), "login", "must be 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit")
	v.Email("email", s.Email)
	v.OptionalText("name", s.Name, 200)
	if s.Password != "" {
		n := len([]rune(s.Password))
		v.Check(n >= MinPasswordLength && n <= MaxPasswordLength, "password", "must be 10 to 200 characters, or left out to generate one")
	}
	v.OneOf("role", s.Role, RoleAdmin, RoleStaff)
	validatePermissions(&v, s.Permissions)
	validateDepartmentIDs(&v, s.DepartmentIDs)
	return v.Err()
}

// validateDepartmentIDs refuses a department listed twice, as the
// document's uniqueItems says, the same way as a permission listed twice.
func validateDepartmentIDs(v *Validator, ids []int64) {
	for i, id := range ids {
		v.Check(!slices.Contains(ids[:i], id), "department_ids", "must not list department "+strconv.FormatInt(id, 10)+" twice")
	}
}

func validatePermissions(v *Validator, perms []string) {
	for i, p := range perms {
		v.OneOf("permissions", p, Permissions...)
		v.Check(!slices.Contains(perms[:i], p), "permissions", "must not list "+p+" twice")
	}
}

// StaffUpdate changes the fields that are set.
type StaffUpdate struct {
	Name        *string   `json:"name"`
	Email       *string   `json:"email"`
	Role        *string   `json:"role"`
	Permissions *[]string `json:"permissions"`
	Status      *string   `json:"status"`
	Password    *string   `json:"password"`
	// DepartmentIDs replaces the member's support departments.
	DepartmentIDs *[]int64 `json:"department_ids"`
}

// Apply returns s with the update applied, validated.
func (up *StaffUpdate) Apply(s Staff) (Staff, error) {
	set(&s.Name, up.Name)
	set(&s.Email, up.Email)
	set(&s.Role, up.Role)
	set(&s.Permissions, up.Permissions)
	set(&s.Status, up.Status)
	set(&s.DepartmentIDs, up.DepartmentIDs)
	var v Validator
	v.OptionalText("name", s.Name, 200)
	v.Email("email", s.Email)
	v.OneOf("role", s.Role, RoleAdmin, RoleStaff)
	v.OneOf("status", s.Status, StaffActive, StaffDisabled)
	validatePermissions(&v, s.Permissions)
	validateDepartmentIDs(&v, s.DepartmentIDs)
	if up.Password != nil {
		n := len([]rune(*up.Password))
		v.Check(n >= MinPasswordLength && n <= MaxPasswordLength, "password", "must be 10 to 200 characters")
	}
	return s, v.Err()
}

// Staff management rules. Nobody grants what they don't hold:
//   - only an admin creates an admin, makes someone an admin or changes an admin;
//   - a permission can be given only by someone who holds it;
//   - a non-admin changes another staff member only with staff.manage and only
//     if they hold every permission that member has (nobody manages a member
//     with more rights than their own);
//   - a member's email and password are changed only by the member or an admin;
//   - a non-admin adds a member to, or removes them from, only departments
//     they are a member of themselves.
//
// Any staff member may change their own name, email and password, and give up
// their own permissions.

// MayCreateStaff reports whether p may create the staff member in as asked.
func (p Principal) MayCreateStaff(in StaffCreate) error {
	if p.Role == RoleAdmin {
		return nil
	}
	var v Validator
	v.Check(in.Role != RoleAdmin, "role", "only an admin can create an admin")
	checkGrants(&v, p, nil, in.Permissions)
	checkDepartments(&v, p, nil, in.DepartmentIDs)
	return forbidden(v.Err(), "you can't give rights you don't hold; see fields")
}

// MayChangeStaff reports whether p may apply up to the staff member t.
func (p Principal) MayChangeStaff(t Staff, up StaffUpdate) error {
	if p.Role == RoleAdmin {
		return nil
	}
	self := p.StaffID == t.ID
	if t.Role == RoleAdmin {
		return Errorf(EFORBIDDEN, "only an admin can change an admin")
	}
	var v Validator
	if !self {
		if !p.Can(PermStaffManage) {
			return Errorf(EFORBIDDEN, "changing another staff member needs the staff permission %q", PermStaffManage)
		}
		if missing := without(t.Permissions, p.Permissions); len(missing) > 0 {
			return Errorf(EFORBIDDEN, "staff member %d has rights you don't hold (%s); ask an admin", t.ID, strings.Join(missing, ", "))
		}
		v.Check(up.Email == nil || *up.Email == t.Email, "email", "only the member or an admin can change a member's email")
		v.Check(up.Password == nil, "password", "only the member or an admin can change a member's password")
	} else if !p.Can(PermStaffManage) {
		v.Check(up.Status == nil || *up.Status == t.Status, "status", "changing a status needs the staff permission "+PermStaffManage)
	}
	v.Check(up.Role == nil || *up.Role != RoleAdmin, "role", "only an admin can make an admin")
	if up.Permissions != nil {
		checkGrants(&v, p, t.Permissions, *up.Permissions)
	}
	if up.DepartmentIDs != nil {
		checkDepartments(&v, p, t.DepartmentIDs, *up.DepartmentIDs)
	}
	return forbidden(v.Err(), "you can't make this change; see fields")
}

// checkGrants refuses permissions in after that were not in before and that p doesn't hold.
func checkGrants(v *Validator, p Principal, before, after []string) {
	var missing []string
	for _, perm := range without(after, before) {
		if !p.Can(perm) {
			missing = append(missing, perm)
		}
	}
	v.Check(len(missing) == 0, "permissions", "you can't give permissions you don't hold: "+strings.Join(missing, ", "))
}

// checkDepartments refuses, for a non-admin p, a change of membership
// (from before to after) in a department p is not a member of.
func checkDepartments(v *Validator, p Principal, before, after []int64) {
	if p.Role == RoleAdmin {
		return
	}
	var missing []string
	for _, id := range append(slices.Clone(before), after...) {
		changed := slices.Contains(before, id) != slices.Contains(after, id)
		if changed && !slices.Contains(p.DepartmentIDs, id) && !slices.Contains(missing, strconv.FormatInt(id, 10)) {
			missing = append(missing, strconv.FormatInt(id, 10))
		}
	}
	v.Check(len(missing) == 0, "department_ids", "you can add members to or remove them from only your own departments, not "+strings.Join(missing, ", "))
}

// without returns the elements of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// forbidden turns a validation error into a forbidden one with msg.
func forbidden(err error, msg string) error {
	if err == nil {
		return nil
	}
	e := err.(*Error)
	e.Code, e.Message = EFORBIDDEN, msg
	return e
}
