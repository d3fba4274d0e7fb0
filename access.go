package billing

import (
	"context"
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
	PermLedgerWrite    = "ledger.write"        // manual ledger adjustments
	PermImpersonate    = "impersonate"         // switch to a customer's panel
	PermAuditRead      = "audit.read"          // read the audit log
	PermStaffManage    = "staff.manage"        // create staff, change their permissions
	PermSubsRead       = "subscriptions.read"  // see subscriptions and their notices
	PermSubsWrite      = "subscriptions.write" // order, suspend, resume, cancel, renew, extend, change
	PermNoticesWrite   = "notices.write"       // replace the texts of service notices
)

// Permissions lists every permission.
var Permissions = []string{PermCustomersRead, PermCustomersWrite, PermProductsWrite,
	PermPaymentsRead, PermPaymentsWrite, PermLedgerWrite, PermImpersonate, PermAuditRead, PermStaffManage,
	PermSubsRead, PermSubsWrite, PermNoticesWrite}

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
	Kind        string     `json:"kind"`
	StaffID     int64      `json:"staff_id,omitempty"`
	Role        string     `json:"role,omitempty"`
	Permissions []string   `json:"permissions,omitempty"`
	UserID      int64      `json:"user_id,omitempty"`
	CustomerID  int64      `json:"customer_id,omitempty"`
	APIKeyID    int64      `json:"api_key_id,omitempty"`
	SessionID   int64      `json:"session_id,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
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

// Staff is a member of the provider's staff.
type Staff struct {
	ID          int64     `json:"id"`
	Login       string    `json:"login"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Permissions []string  `json:"permissions"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
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
}

// Validate reports every invalid field of s.
func (s *StaffCreate) Validate() error {
	if s.Role == "" {
		s.Role = RoleStaff
	}
	if s.Permissions == nil {
		s.Permissions = []string{}
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
	return v.Err()
}

func validatePermissions(v *Validator, perms []string) {
	for _, p := range perms {
		v.OneOf("permissions", p, Permissions...)
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
}

// Apply returns s with the update applied, validated.
func (up *StaffUpdate) Apply(s Staff) (Staff, error) {
	set(&s.Name, up.Name)
	set(&s.Email, up.Email)
	set(&s.Role, up.Role)
	set(&s.Permissions, up.Permissions)
	set(&s.Status, up.Status)
	var v Validator
	v.OptionalText("name", s.Name, 200)
	v.Email("email", s.Email)
	v.OneOf("role", s.Role, RoleAdmin, RoleStaff)
	v.OneOf("status", s.Status, StaffActive, StaffDisabled)
	validatePermissions(&v, s.Permissions)
	if up.Password != nil {
		n := len([]rune(*up.Password))
		v.Check(n >= MinPasswordLength && n <= MaxPasswordLength, "password", "must be 10 to 200 characters")
	}
	return s, v.Err()
}

// APIKey is a staff integration's credential. The key itself is shown once.
type APIKey struct {
	ID         int64      `json:"id"`
	StaffID    int64      `json:"staff_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// AuditEntry records who did what to which object, when and from where.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	ActorKind  string         `json:"actor_kind"`
	StaffID    *int64         `json:"staff_id"`
	UserID     *int64         `json:"user_id"`
	APIKeyID   *int64         `json:"api_key_id"`
	CustomerID *int64         `json:"customer_id"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id"`
	IP         string         `json:"ip"`
	Details    map[string]any `json:"details"`
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	ActorKind  string
	StaffID    *int64
	CustomerID *int64
	Action     string
	ObjectType string
	ObjectID   string
	Since      *time.Time
	Until      *time.Time
	PageRequest
}

// NewAuditEntry returns the entry for an action by p from ip.
func NewAuditEntry(p Principal, action, ip string) *AuditEntry {
	e := &AuditEntry{ActorKind: p.Kind, Action: action, IP: ip, Details: map[string]any{}}
	if p.StaffID != 0 {
		e.StaffID = &p.StaffID
	}
	if p.UserID != 0 {
		e.UserID = &p.UserID
	}
	if p.APIKeyID != 0 {
		e.APIKeyID = &p.APIKeyID
	}
	if p.CustomerID != 0 {
		e.CustomerID = &p.CustomerID
	}
	return e
}

// SetObject names the object an audited action acted on.
func (e *AuditEntry) SetObject(kind string, id any, customerID int64) {
	e.ObjectType = kind
	e.ObjectID = fmtID(id)
	if customerID != 0 {
		e.CustomerID = &customerID
	}
}

type auditKey struct{}

// WithAudit returns ctx carrying e: the store writes e in the transaction of
// the change it records.
func WithAudit(ctx context.Context, e *AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// AuditFrom returns the entry ctx carries, or nil.
func AuditFrom(ctx context.Context) *AuditEntry {
	e, _ := ctx.Value(auditKey{}).(*AuditEntry)
	return e
}
