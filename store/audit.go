package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func insertAudit(ctx context.Context, q *dbsqlc.Queries, e *billing.AuditEntry) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return err
	}
	row, err := q.AuditInsert(ctx, dbsqlc.AuditInsertParams{ActorKind: e.ActorKind, StaffID: e.StaffID, UserID: e.UserID,
		APIKeyID: e.APIKeyID, CustomerID: e.CustomerID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, IP: e.IP, Details: details})
	if err != nil {
		return err
	}
	e.ID, e.At = row.ID, row.At
	return nil
}

// Audit writes an entry on its own, for events that change no other row
// (a sign-in, a refused sign-in).
func (s *Store) Audit(ctx context.Context, e *billing.AuditEntry) error {
	return dbError(insertAudit(ctx, s.q, e), "audit entry", "")
}

// auditColumns are the columns of an auditRow.
const auditColumns = `id, at, actor_kind, staff_id, user_id, api_key_id, customer_id, action,
	object_type, object_id, coalesce(host(ip), '') AS ip, details`

// auditRow is a row of the audit list, scanned by column name.
type auditRow struct {
	ID         int64          `db:"id"`
	At         time.Time      `db:"at"`
	ActorKind  string         `db:"actor_kind"`
	StaffID    *int64         `db:"staff_id"`
	UserID     *int64         `db:"user_id"`
	APIKeyID   *int64         `db:"api_key_id"`
	CustomerID *int64         `db:"customer_id"`
	Action     string         `db:"action"`
	ObjectType string         `db:"object_type"`
	ObjectID   string         `db:"object_id"`
	IP         string         `db:"ip"`
	Details    map[string]any `db:"details"`
}

func auditFromRow(r auditRow) billing.AuditEntry {
	return billing.AuditEntry{ID: r.ID, At: r.At, ActorKind: r.ActorKind, StaffID: r.StaffID, UserID: r.UserID,
		APIKeyID: r.APIKeyID, CustomerID: r.CustomerID, Action: r.Action, ObjectType: r.ObjectType,
		ObjectID: r.ObjectID, IP: r.IP, Details: r.Details}
}

// AuditEntries lists the audit log, newest first. Its filters are chosen at
// run time, so that each list uses the index that fits it.
func (s *Store) AuditEntries(ctx context.Context, f billing.AuditFilter) (billing.Page[billing.AuditEntry], error) {
	var q listQuery
	if f.ActorKind != "" {
		q.filter("actor_kind = %s", f.ActorKind)
	}
	if f.StaffID != nil {
		q.filter("staff_id = %s", *f.StaffID)
	}
	if f.CustomerID != nil {
		q.filter("customer_id = %s", *f.CustomerID)
	}
	if f.Action != "" {
		q.filter("action = %s", f.Action)
	}
	if f.ObjectType != "" {
		q.filter("object_type = %s", f.ObjectType)
	}
	if f.ObjectID != "" {
		q.filter("object_id = %s", f.ObjectID)
	}
	if f.Since != nil {
		q.filter("at >= %s", *f.Since)
	}
	if f.Until != nil {
		q.filter("at < %s", *f.Until)
	}
	p, err := listPage(ctx, s.db, "audit_log", auditColumns, q, "id DESC", f.PageRequest, auditFromRow)
	return p, dbError(err, "audit entry", "")
}
