package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// The support incidents ledger (migrations/00023): every writer takes the
// customer's row lock first (IncidentCustomerLock, which waits for the money
// ledger's writers too), so that the balance it checks is the balance it
// writes to: two tickets at once can't both take the last incident.

func incidentFromRow(r dbsqlc.SupportIncident) billing.SupportIncident {
	return billing.SupportIncident{ID: r.ID, CustomerID: r.CustomerID, Delta: r.Delta, Reason: r.Reason, TicketID: r.TicketID,
		SubscriptionID: r.SubscriptionID, Period: r.Period, StaffID: r.StaffID, Note: r.Note, CreatedAt: r.CreatedAt}
}

// writeIncident writes e under key (none if ""), in q's transaction, unless
// an entry holds the key already: then it returns that entry and false. A
// key reused for a different entry is a conflict. The customer's row lock
// is taken first; refuse, if not nil, sees the balance before e and may
// refuse it. An entry that would take the balance below 0 is refused by
// refuse, or by a conflict if refuse is nil.
func writeIncident(ctx context.Context, q *dbsqlc.Queries, e dbsqlc.IncidentInsertParams, refuse func(balance int64) error) (billing.SupportIncident, bool, error) {
	if err := q.IncidentCustomerLock(ctx, e.CustomerID); err != nil {
		return billing.SupportIncident{}, false, err
	}
	if e.IdempotencyKey != nil {
		row, err := q.IncidentByKey(ctx, dbsqlc.IncidentByKeyParams{CustomerID: e.CustomerID, IdempotencyKey: e.IdempotencyKey})
		prior := incidentFromRow(row)
		switch {
		case err == pgx.ErrNoRows:
		case err != nil:
			return prior, false, err
		case prior.Delta != e.Delta || prior.Reason != e.Reason:
			return prior, false, billing.Errorf(billing.ECONFLICT,
				"idempotency key %q was already used for a different change of customer %d's support incidents (%+d, %s)",
				*e.IdempotencyKey, e.CustomerID, prior.Delta, prior.Reason)
		default:
			return prior, false, nil
		}
	}
	balance, err := q.IncidentBalance(ctx, e.CustomerID)
	if err != nil {
		return billing.SupportIncident{}, false, err
	}
	if refuse != nil {
		if err := refuse(balance); err != nil {
			return billing.SupportIncident{}, false, err
		}
	}
	if balance+int64(e.Delta) < 0 {
		return billing.SupportIncident{}, false, billing.Errorf(billing.ECONFLICT,
			"customer %d has %d support incidents: %d can't be taken", e.CustomerID, balance, -e.Delta)
	}
	row, err := q.IncidentInsert(ctx, e)
	return incidentFromRow(row), err == nil, err
}

// UseIncident takes one of the customer's support incidents for ticket
// ticketID, opened in a department that requires incidents; without one it
// refuses with billing.ErrIncidentRequired (ECONFLICT, "a support incident
// is required..."). A ticket in a department that doesn't require incidents
// takes none, so the ticket store may call it for every new ticket. It runs
// in s's transaction (the ticket's); its key is the ticket, so a retried
// call takes none twice.
func (s *Store) UseIncident(ctx context.Context, customerID, ticketID int64) error {
	return dbError(pgx.BeginFunc(ctx, s.db, func(t pgx.Tx) error {
		q := dbsqlc.New(t)
		tk, err := q.IncidentTicketDepartment(ctx, ticketID)
		if err != nil {
			return dbError(err, "ticket", ticketID)
		}
		if tk.CustomerID != customerID {
			return fmt.Errorf("store: ticket %d is not customer %d's but %d's", ticketID, customerID, tk.CustomerID)
		}
		if !tk.RequiresIncidents {
			return nil
		}
		key := fmt.Sprintf("ticket:%d", ticketID)
		_, _, err = writeIncident(ctx, q, dbsqlc.IncidentInsertParams{CustomerID: customerID, Delta: -1,
			Reason: billing.IncidentTicket, TicketID: &ticketID, IdempotencyKey: &key}, func(balance int64) error {
			if balance < 1 {
				return billing.ErrIncidentRequired(customerID, tk.DepartmentName)
			}
			return nil
		})
		return err
	}), "support incident", ticketID)
}

// IncidentBalance returns how many support incidents the customer has left
// (0 for an unknown customer): what the mail gateway checks before it turns
// a mail to a department that requires incidents into a ticket.
func (s *Store) IncidentBalance(ctx context.Context, customerID int64) (int64, error) {
	n, err := s.q.IncidentBalance(ctx, customerID)
	return n, dbError(err, "support incidents", customerID)
}

// Incidents returns a customer's support incident balance and a page of its
// entries, newest first.
func (s *Store) Incidents(ctx context.Context, customerID int64, limit, offset int) (billing.Incidents, error) {
	out := billing.Incidents{CustomerID: customerID}
	out.Items = []billing.SupportIncident{}
	out.Limit, out.Offset = clampPage(limit, offset)
	if _, err := s.Customer(ctx, customerID); err != nil {
		return out, err
	}
	// One snapshot of what is committed: the balance is the sum of the
	// entries listed.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(t pgx.Tx) error {
		q := dbsqlc.New(t)
		var err error
		if out.Balance, err = q.IncidentBalance(ctx, customerID); err != nil {
			return err
		}
		out.Page, err = page(billing.PageRequest{Limit: limit, Offset: offset},
			func() (int64, error) { return q.IncidentCount(ctx, customerID) },
			func(limit, offset int64) ([]billing.SupportIncident, error) {
				rows, err := q.IncidentList(ctx, dbsqlc.IncidentListParams{CustomerID: customerID, Limit: limit, Offset: offset})
				return fromRows(rows, incidentFromRow), err
			})
		return err
	})
	return out, dbError(err, "support incidents", customerID)
}

// GrantIncidents writes staff member staffID's grant (in.Count > 0) or
// correction (< 0) of the customer's support incidents. A request key
// (Idempotency-Key; "" for none) makes it once: resent, it returns the entry
// written and false. A correction that would take the balance below 0 is
// refused (EINVALID) and writes nothing.
func (s *Store) GrantIncidents(ctx context.Context, customerID, staffID int64, in billing.IncidentGrantInput, key string) (billing.SupportIncident, bool, error) {
	var out billing.SupportIncident
	var created bool
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		e := dbsqlc.IncidentInsertParams{CustomerID: customerID, Delta: in.Count, Reason: in.Reason(), Note: in.Note}
		if staffID != 0 {
			e.StaffID = &staffID
		}
		if key != "" {
			k := "request:" + key
			e.IdempotencyKey = &k
		}
		var err error
		out, created, err = writeIncident(ctx, q, e, func(balance int64) error {
			if balance+int64(in.Count) < 0 {
				field := fmt.Sprintf("must be at least -%d: the balance can't go below 0", balance)
				if balance == 0 {
					field = "must be positive: the customer has no support incidents to take back"
				}
				return &billing.Error{Code: billing.EINVALID,
					Message: fmt.Sprintf("customer %d has %d support incidents: a correction can take back at most that many", customerID, balance),
					Fields:  map[string]string{"count": field}}
			}
			return nil
		})
		if err == nil {
			auditObject(ctx, "support_incident", out.ID, customerID)
		}
		return err
	})
	return out, created, dbError(err, "support incidents", customerID)
}

// purchaseKey is the idempotency key of the incidents a period charge bought.
func purchaseKey(chargeKey string) string { return "purchase:" + chargeKey }

// grantPurchased grants, in q's transaction, the support incidents that the
// product pc is charged for includes, once per charge (keyed by the charge's
// key: a retried or replayed charge grants none). A free period grants them
// too: its charge is made, at 0.
func grantPurchased(ctx context.Context, q *dbsqlc.Queries, pc PeriodCharge) error {
	n, err := q.ProductSupportIncidents(ctx, pc.ProductID)
	if err != nil || n == 0 {
		return err
	}
	key := purchaseKey(pc.Charge.IdempotencyKey)
	period := pc.Period
	_, _, err = writeIncident(ctx, q, dbsqlc.IncidentInsertParams{CustomerID: pc.Charge.CustomerID, Delta: n,
		Reason: billing.IncidentPurchase, SubscriptionID: &pc.SubscriptionID, Period: &period, IdempotencyKey: &key}, nil)
	if billing.ErrorCode(err) == billing.ECONFLICT {
		return nil // the key holds the first attempt's grant, made when the product included another count
	}
	return err
}

// takeBackPurchased takes back, in q's transaction, what is left of the
// support incidents bought by the charge written under chargeKey: as many as
// it granted, but never more than the balance (those used are used). Once:
// keyed by the charge; an entry of 0 when none is left.
func takeBackPurchased(ctx context.Context, q *dbsqlc.Queries, customerID int64, chargeKey string) error {
	if err := q.IncidentCustomerLock(ctx, customerID); err != nil {
		return err
	}
	boughtKey := purchaseKey(chargeKey)
	bought, err := q.IncidentByKey(ctx, dbsqlc.IncidentByKeyParams{CustomerID: customerID, IdempotencyKey: &boughtKey})
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	key := "refund:" + chargeKey
	if _, err := q.IncidentByKey(ctx, dbsqlc.IncidentByKeyParams{CustomerID: customerID, IdempotencyKey: &key}); err != pgx.ErrNoRows {
		return err // taken back before
	}
	balance, err := q.IncidentBalance(ctx, customerID)
	if err != nil {
		return err
	}
	// Written even when nothing is left (0): a retry then finds it and
	// doesn't take back incidents granted since.
	n := max(0, min(int64(bought.Delta), balance))
	_, err = q.IncidentInsert(ctx, dbsqlc.IncidentInsertParams{CustomerID: customerID, Delta: -int(n), Reason: billing.IncidentRefund,
		SubscriptionID: bought.SubscriptionID, Period: bought.Period, IdempotencyKey: &key})
	return err
}
