package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const productColumns = `id, name, description, price, currency, period_unit, period_count,
	auto_renew, incoming_days, grace_days, steps, webhook_url, webhook_secret, status, created_at, updated_at`

func scanProduct(row pgx.Row) (billing.Product, error) {
	var p billing.Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Currency, &p.PeriodUnit,
		&p.PeriodCount, &p.AutoRenew, &p.IncomingDays, &p.GraceDays, &p.Steps, &p.WebhookURL, &p.WebhookSecret,
		&p.Status, &p.CreatedAt, &p.UpdatedAt)
	p.WebhookSecretSet = p.WebhookSecret != ""
	return p, err
}

// CreateProduct stores a product with its payment-state notices.
func (s *Store) CreateProduct(ctx context.Context, p billing.Product) (billing.Product, error) {
	var out billing.Product
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanProduct(tx.QueryRow(ctx, `INSERT INTO products (name, description, price,
			currency, period_unit, period_count, auto_renew, incoming_days, grace_days, status,
			steps, webhook_url, webhook_secret)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING `+productColumns,
			p.Name, p.Description, p.Price, p.Currency, p.PeriodUnit, p.PeriodCount, p.AutoRenew,
			p.IncomingDays, p.GraceDays, p.Status, p.Steps, p.WebhookURL, p.WebhookSecret))
		if err != nil {
			return err
		}
		out.PaymentStates, err = writeNotices(ctx, tx, out.ID, p.PaymentStates)
		auditObject(ctx, "product", out.ID, 0)
		return err
	})
	return out, dbError(err, "product", "")
}

// UpdateProduct replaces the settings of a product. Running services pick up
// the new price from their next period.
func (s *Store) UpdateProduct(ctx context.Context, id int64, p billing.Product) (billing.Product, error) {
	var out billing.Product
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanProduct(tx.QueryRow(ctx, `UPDATE products SET name = $2, description = $3,
			price = $4, currency = $5, period_unit = $6, period_count = $7, auto_renew = $8,
			incoming_days = $9, grace_days = $10, status = $11, steps = $12, webhook_url = $13,
			webhook_secret = $14, updated_at = now()
			WHERE id = $1 RETURNING `+productColumns, id, p.Name, p.Description, p.Price,
			p.Currency, p.PeriodUnit, p.PeriodCount, p.AutoRenew, p.IncomingDays, p.GraceDays, p.Status,
			p.Steps, p.WebhookURL, p.WebhookSecret))
		if err != nil {
			return dbError(err, "product", id)
		}
		out.PaymentStates, err = writeNotices(ctx, tx, id, p.PaymentStates)
		return err
	})
	return out, dbError(err, "product", id)
}

func writeNotices(ctx context.Context, tx pgx.Tx, productID int64, states map[string]billing.NoticeSetting) (map[string]billing.NoticeSetting, error) {
	out := map[string]billing.NoticeSetting{}
	for _, state := range billing.PaymentStates {
		n := states[state]
		if _, err := tx.Exec(ctx, `INSERT INTO product_notices (product_id, state, email, sms,
			subject, body, sms_body, sender_name, reply_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (product_id, state) DO UPDATE SET email = $3, sms = $4, subject = $5,
			body = $6, sms_body = $7, sender_name = $8, reply_to = $9`, productID, state, n.Email,
			n.SMS, n.Subject, n.Body, n.SMSBody, n.SenderName, n.ReplyTo); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, nil
}

// Product returns a product with its payment-state notices.
func (s *Store) Product(ctx context.Context, id int64) (billing.Product, error) {
	p, err := scanProduct(s.pool.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
	if err != nil {
		return p, dbError(err, "product", id)
	}
	p.PaymentStates, err = s.notices(ctx, id)
	return p, dbError(err, "product", id)
}

func (s *Store) notices(ctx context.Context, productID int64) (map[string]billing.NoticeSetting, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, email, sms, subject, body, sms_body, sender_name,
		reply_to FROM product_notices WHERE product_id = $1`, productID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]billing.NoticeSetting{}
	for rows.Next() {
		var state string
		var n billing.NoticeSetting
		if err := rows.Scan(&state, &n.Email, &n.SMS, &n.Subject, &n.Body, &n.SMSBody, &n.SenderName, &n.ReplyTo); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// Products lists products, optionally only those with status.
func (s *Store) Products(ctx context.Context, status string, limit, offset int) (billing.Page[billing.Product], error) {
	page := billing.Page[billing.Product]{Items: []billing.Product{}}
	page.Limit, page.Offset = clampPage(limit, offset)
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE $1 = '' OR status = $1`, status).Scan(&page.Total); err != nil {
		return page, dbError(err, "product", "")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+productColumns+` FROM products
		WHERE $1 = '' OR status = $1 ORDER BY id LIMIT $2 OFFSET $3`, status, page.Limit, page.Offset)
	if err != nil {
		return page, dbError(err, "product", "")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Product, error) { return scanProduct(r) })
	if err != nil {
		return page, dbError(err, "product", "")
	}
	for i := range items {
		if items[i].PaymentStates, err = s.notices(ctx, items[i].ID); err != nil {
			return page, dbError(err, "product", "")
		}
	}
	if items != nil {
		page.Items = items
	}
	return page, nil
}
