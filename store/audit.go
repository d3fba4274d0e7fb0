package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

func insertAudit(ctx context.Context, q querier, e *billing.AuditEntry) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	return q.QueryRow(ctx, `INSERT INTO audit_log (actor_kind, staff_id, user_id, api_key_id, customer_id,
		action, object_type, object_id, ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id, at`, e.ActorKind, e.StaffID, e.UserID, e.APIKeyID, e.CustomerID, e.Action,
		e.ObjectType, e.ObjectID, nullIP(e.IP), e.Details).Scan(&e.ID, &e.At)
}

// Audit writes an entry on its own, for events that change no other row
// (a sign-in, a refused sign-in).
func (s *Store) Audit(ctx context.Context, e *billing.AuditEntry) error {
	return dbError(insertAudit(ctx, s.pool, e), "audit entry", "")
}

const auditColumns = `id, at, actor_kind, staff_id, user_id, api_key_id, customer_id, action,
	object_type, object_id, coalesce(host(ip), ''), details`

// AuditEntries lists the audit log, newest first.
func (s *Store) AuditEntries(ctx context.Context, f billing.AuditFilter) (billing.Page[billing.AuditEntry], error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ActorKind != "" {
		where = append(where, "actor_kind = "+arg(f.ActorKind))
	}
	if f.StaffID != nil {
		where = append(where, "staff_id = "+arg(*f.StaffID))
	}
	if f.CustomerID != nil {
		where = append(where, "customer_id = "+arg(*f.CustomerID))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.ObjectType != "" {
		where = append(where, "object_type = "+arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.Since != nil {
		where = append(where, "at >= "+arg(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "at < "+arg(*f.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := billing.Page[billing.AuditEntry]{Items: []billing.AuditEntry{}}
	page.Limit, page.Offset = clampPage(f.Limit, f.Offset)
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`+cond, args...).Scan(&page.Total); err != nil {
		return page, dbError(err, "audit entry", "")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log`+cond+
		` ORDER BY id DESC LIMIT `+arg(page.Limit)+` OFFSET `+arg(page.Offset), args...)
	if err != nil {
		return page, dbError(err, "audit entry", "")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.AuditEntry, error) {
		var e billing.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.ActorKind, &e.StaffID, &e.UserID, &e.APIKeyID, &e.CustomerID,
			&e.Action, &e.ObjectType, &e.ObjectID, &e.IP, &e.Details)
		return e, err
	})
	if items != nil {
		page.Items = items
	}
	return page, dbError(err, "audit entry", "")
}
