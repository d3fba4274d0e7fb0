package billing

import (
	"slices"
	"time"
)

// Staff permissions. An admin has all of them.
const (
	PermCustomersRead  = "customers.read"      // see customers, their users, payers, balances
	PermCustomersWrite = "customers.write"     // register, change and delete customers, users, payers
	PermProductsWrite  = "products.write"      // create and change products and prices
	PermPaymentsRead   = "payments.read"       // see payments
	PermPaymentsWrite  = "payments.write"      // record payments, mark them paid, cancel them
	PermLedgerWrite    = "ledger.write"        // manual ledger adjustments and credit notes
	PermImpersonate    = "impersonate"         // switch to a customer's panel
	PermAuditRead      = "audit.read"          // read the audit log
	PermStaffManage    = "staff.manage"        // create staff, change their permissions
	PermSubsRead       = "subscriptions.read"  // see subscriptions and the notification log
	PermSubsWrite      = "subscriptions.write" // order, suspend, resume, cancel, renew, extend, change
	PermNoticesWrite   = "notices.write"       // write message templates, preview them, resend notifications
	PermSettingsManage = "settings.manage"     // change the global settings
	PermSupportManage  = "support.manage"      // departments and their staff, shared pre-defined replies, support incidents
	PermGatewaysManage = "gateways.manage"     // incoming mail gateways: their mailboxes and passwords, test connection, poll now
)

// Permissions lists every permission.
var Permissions = []string{PermCustomersRead, PermCustomersWrite, PermProductsWrite,
	PermPaymentsRead, PermPaymentsWrite, PermLedgerWrite, PermImpersonate, PermAuditRead, PermStaffManage,
	PermSubsRead, PermSubsWrite, PermNoticesWrite, PermSettingsManage, PermSupportManage,
	PermGatewaysManage}

// Staff roles.
const (
	RoleAdmin = "admin"
	RoleStaff = "staff"
)

// Kinds of principals: who is calling.
const (
	ActorAnonymous     = "anonymous"
	ActorStaff         = "staff"
	ActorClient        = "client"
	ActorAPIKey        = "api_key"
	ActorImpersonation = "impersonation"
	ActorSystem        = "system"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind        string   `json:"kind"`
	StaffID     int64    `json:"staff_id,omitempty"`
	Role        string   `json:"role,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
	UserID      int64    `json:"user_id,omitempty"`
	CustomerID  int64    `json:"customer_id,omitempty"`
	APIKeyID    int64    `json:"api_key_id,omitempty"`
	SessionID   int64    `json:"session_id,omitempty"`
	// DepartmentIDs are the support departments a staff member belongs to.
	DepartmentIDs []int64    `json:"department_ids,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
}

// IsStaff reports whether p acts with staff rights (a staff session or an API key).
func (p Principal) IsStaff() bool { return p.Kind == ActorStaff || p.Kind == ActorAPIKey }

// IsClient reports whether p acts in a customer's panel (a client, or staff impersonating one).
func (p Principal) IsClient() bool { return p.Kind == ActorClient || p.Kind == ActorImpersonation }

// Can reports whether p is staff with perm (admins have every permission; ""
// asks only for staff).
func (p Principal) Can(perm string) bool {
	return p.IsStaff() && (perm == "" || p.Role == RoleAdmin || slices.Contains(p.Permissions, perm))
}

// SeesDepartment reports whether p may see and answer the tickets of
// department id: an admin sees every department's, other staff only their
// own departments'.
func (p Principal) SeesDepartment(id int64) bool {
	return p.IsStaff() && (p.Role == RoleAdmin || slices.Contains(p.DepartmentIDs, id))
}
