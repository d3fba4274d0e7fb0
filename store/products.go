package store

import (
	"context"
	"encoding/json"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// productFromRow converts a product row, without its payment-state notices.
func productFromRow(r dbsqlc.Product) billing.Product {
	p := productFromColumns(r)
	p.OrderParameters = orderParameters(r.OrderParameters)
	return p
}

// orderParameters decodes a product's order_parameters column (written by
// this package only: JSON that can't be read is none).
func orderParameters(raw []byte) []billing.OrderParameter {
	out := []billing.OrderParameter{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// jsonOf encodes v for a jsonb column: nil (a nil slice or map) as empty.
func jsonOf(v any, empty string) []byte {
	b, _ := json.Marshal(v)
	if string(b) == "null" {
		return []byte(empty)
	}
	return b
}

func productFromColumns(r dbsqlc.Product) billing.Product {
	return billing.Product{ID: r.ID, Name: r.Name, Description: r.Description, Price: r.Price, Currency: r.Currency,
		PeriodUnit: r.PeriodUnit, PeriodCount: r.PeriodCount, AutoRenew: r.AutoRenew, IncomingDays: r.IncomingDays,
		GraceDays: r.GraceDays, Steps: r.Steps, WebhookURL: r.WebhookURL, WebhookSecret: r.WebhookSecret,
		WebhookSecretSet: r.WebhookSecret != "", Status: r.Status, Kind: r.Kind, UpdatesMonths: r.UpdatesMonths,
		SupportIncidents: r.SupportIncidents, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateProduct stores a product with its payment-state notices.
func (s *Store) CreateProduct(ctx context.Context, p billing.Product) (billing.Product, error) {
	var out billing.Product
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.ProductInsert(ctx, dbsqlc.ProductInsertParams{Name: p.Name, Description: p.Description,
			Price: p.Price, Currency: p.Currency, PeriodUnit: p.PeriodUnit, PeriodCount: p.PeriodCount,
			AutoRenew: p.AutoRenew, IncomingDays: p.IncomingDays, GraceDays: p.GraceDays, Status: p.Status,
			Steps: p.Steps, WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret, Kind: p.Kind,
			UpdatesMonths: p.UpdatesMonths, OrderParameters: jsonOf(p.OrderParameters, "[]"),
			SupportIncidents: p.SupportIncidents})
		if err != nil {
			return err
		}
		out = productFromRow(row)
		out.PaymentStates, err = writeNotices(ctx, q, out.ID, p.PaymentStates)
		auditObject(ctx, "product", out.ID, 0)
		if err == nil {
			out.Resources, err = writeResources(ctx, q, out.ID, p.Resources)
		}
		return err
	})
	return out, dbError(err, "product", "")
}

// UpdateProduct replaces the settings of a product. Running services pick up
// the new price from their next period.
func (s *Store) UpdateProduct(ctx context.Context, id int64, p billing.Product) (billing.Product, error) {
	var out billing.Product
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.ProductUpdate(ctx, dbsqlc.ProductUpdateParams{ID: id, Name: p.Name, Description: p.Description,
			Price: p.Price, Currency: p.Currency, PeriodUnit: p.PeriodUnit, PeriodCount: p.PeriodCount,
			AutoRenew: p.AutoRenew, IncomingDays: p.IncomingDays, GraceDays: p.GraceDays, Status: p.Status,
			Steps: p.Steps, WebhookURL: p.WebhookURL, WebhookSecret: p.WebhookSecret, Kind: p.Kind,
			UpdatesMonths: p.UpdatesMonths, OrderParameters: jsonOf(p.OrderParameters, "[]"),
			SupportIncidents: p.SupportIncidents})
		out = productFromRow(row)
		if err != nil {
			return dbError(err, "product", id)
		}
		out.PaymentStates, err = writeNotices(ctx, q, id, p.PaymentStates)
		if err == nil {
			out.Resources, err = writeResources(ctx, q, id, p.Resources)
		}
		return err
	})
	return out, dbError(err, "product", id)
}

func writeNotices(ctx context.Context, q *dbsqlc.Queries, productID int64, states map[string]billing.NoticeSetting) (map[string]billing.NoticeSetting, error) {
	out := map[string]billing.NoticeSetting{}
	for _, state := range billing.PaymentStates {
		n := states[state]
		if err := q.ProductNoticeUpsert(ctx, dbsqlc.ProductNoticeUpsertParams{ProductID: productID, State: state,
			Email: n.Email, SMS: n.SMS, Subject: n.Subject, Body: n.Body, SMSBody: n.SMSBody,
			SenderName: n.SenderName, ReplyTo: n.ReplyTo}); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, nil
}

// Product returns a product with its payment-state notices.
func (s *Store) Product(ctx context.Context, id int64) (billing.Product, error) {
	row, err := s.q.ProductGet(ctx, id)
	p := productFromRow(row)
	if err != nil {
		return p, dbError(err, "product", id)
	}
	p.PaymentStates, err = s.notices(ctx, id)
	if err == nil {
		var rs map[int64][]billing.Resource
		rs, err = resourcesOf(ctx, s.q, id)
		p.Resources = rs[id]
	}
	return p, dbError(err, "product", id)
}

func (s *Store) notices(ctx context.Context, productID int64) (map[string]billing.NoticeSetting, error) {
	rows, err := s.q.ProductNoticeList(ctx, productID)
	if err != nil {
		return nil, err
	}
	out := map[string]billing.NoticeSetting{}
	for _, r := range rows {
		out[r.State] = billing.NoticeSetting{Email: r.Email, SMS: r.SMS, Subject: r.Subject, Body: r.Body,
			SMSBody: r.SMSBody, SenderName: r.SenderName, ReplyTo: r.ReplyTo}
	}
	return out, nil
}

// Products lists products, optionally only those with status.
func (s *Store) Products(ctx context.Context, status string, limit, offset int) (billing.Page[billing.Product], error) {
	p, err := page(billing.PageRequest{Limit: limit, Offset: offset}, func() (int64, error) {
		return s.q.ProductCount(ctx, status)
	}, func(limit, offset int64) ([]billing.Product, error) {
		rows, err := s.q.ProductList(ctx, dbsqlc.ProductListParams{Status: status, Limit: limit, Offset: offset})
		if err != nil {
			return nil, err
		}
		items := fromRows(rows, productFromRow)
		ids := make([]int64, len(items))
		for i := range items {
			if items[i].PaymentStates, err = s.notices(ctx, items[i].ID); err != nil {
				return nil, err
			}
			ids[i] = items[i].ID
		}
		rs, err := resourcesOf(ctx, s.q, ids...)
		for i := range items {
			items[i].Resources = rs[items[i].ID]
		}
		return items, err
	})
	return p, dbError(err, "product", "")
}
