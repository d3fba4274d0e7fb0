package billing

import (
	"context"
	"time"
)

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
