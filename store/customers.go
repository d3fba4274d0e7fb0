package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const customerColumns = `id, account_type, name, contact_person, country, language, time_zone,
	registered_at, coalesce(host(registration_ip), ''), verified_phone, note, attitude, post_paid,
	customer_group, project, status, company_legal_name, company_registration_number,
	company_tax_id, company_address, company_website, created_at, updated_at`

func scanCustomer(row pgx.Row) (billing.Customer, error) {
	var c billing.Customer
	var legal, reg, tax, addr, web *string
	err := row.Scan(&c.ID, &c.AccountType, &c.Name, &c.ContactPerson, &c.Country, &c.Language,
		&c.TimeZone, &c.RegisteredAt, &c.RegistrationIP, &c.VerifiedPhone, &c.Note, &c.Attitude,
		&c.PostPaid, &c.Group, &c.Project, &c.Status, &legal, &reg, &tax, &addr, &web,
		&c.CreatedAt, &c.UpdatedAt)
	if legal != nil {
		c.Company = &billing.CompanyDetails{LegalName: *legal, RegistrationNumber: deref(reg),
			TaxID: deref(tax), Address: deref(addr), Website: deref(web)}
	}
	return c, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// companyArgs returns the company columns, all NULL for a non-company.
func companyArgs(c *billing.CompanyDetails) []any {
	if c == nil {
		return []any{nil, nil, nil, nil, nil}
	}
	return []any{c.LegalName, c.RegistrationNumber, c.TaxID, c.Address, c.Website}
}

func nullIP(ip string) any {
	if ip == "" {
		return nil
	}
	return ip
}

// CreateCustomer registers a customer and its main user in one transaction.
// passwordHash is the argon2id hash of the user's password.
func (s *Store) CreateCustomer(ctx context.Context, in billing.CustomerCreate, passwordHash string) (billing.Customer, billing.User, error) {
	var c billing.Customer
	var u billing.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		args := append([]any{in.AccountType, in.Name, in.ContactPerson, in.Country, in.Language,
			in.TimeZone, nullIP(in.RegistrationIP), in.VerifiedPhone, in.Note, in.Attitude,
			in.PostPaid, in.Group, in.Project}, companyArgs(in.Company)...)
		var err error
		c, err = scanCustomer(tx.QueryRow(ctx, `INSERT INTO customers (account_type, name,
			contact_person, country, language, time_zone, registration_ip, verified_phone, note,
			attitude, post_paid, customer_group, project, company_legal_name,
			company_registration_number, company_tax_id, company_address, company_website)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			RETURNING `+customerColumns, args...))
		if err != nil {
			return err
		}
		u, err = insertUser(ctx, tx, c.ID, in.User, passwordHash, true)
		auditObject(ctx, "customer", c.ID, c.ID)
		return prefixFields(err, "user.")
	})
	return c, u, dbError(err, "customer", "")
}

// prefixFields renames the fields of a *billing.Error, for errors of a nested object.
func prefixFields(err error, prefix string) error {
	if err == nil {
		return nil
	}
	err = dbError(err, "user", "")
	var be *billing.Error
	if !errors.As(err, &be) || len(be.Fields) == 0 {
		return err
	}
	out := &billing.Error{Code: be.Code, Message: be.Message, Fields: map[string]string{}}
	for f, m := range be.Fields {
		out.Fields[prefix+f] = m
	}
	return out
}

// Customer returns the customer with id, deleted or not.
func (s *Store) Customer(ctx context.Context, id int64) (billing.Customer, error) {
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	return c, dbError(err, "customer", id)
}

// UpdateCustomer applies up to the customer with id under a row lock, so two
// concurrent updates don't lose each other's fields.
func (s *Store) UpdateCustomer(ctx context.Context, id int64, up billing.CustomerUpdate) (billing.Customer, error) {
	var out billing.Customer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if c.Status == billing.CustomerDeleted {
			return billing.Errorf(billing.ECONFLICT, "customer %d is deleted and can't be changed", id)
		}
		c, err = up.Apply(c)
		if err != nil {
			return err
		}
		args := append([]any{id, c.AccountType, c.Name, c.ContactPerson, c.Country, c.Language,
			c.TimeZone, c.RegisteredAt, nullIP(c.RegistrationIP), c.VerifiedPhone, c.Note,
			c.Attitude, c.PostPaid, c.Group, c.Project}, companyArgs(c.Company)...)
		out, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET account_type = $2, name = $3,
			contact_person = $4, country = $5, language = $6, time_zone = $7, registered_at = $8,
			registration_ip = $9, verified_phone = $10, note = $11, attitude = $12, post_paid = $13,
			customer_group = $14, project = $15, company_legal_name = $16,
			company_registration_number = $17, company_tax_id = $18, company_address = $19,
			company_website = $20, updated_at = now()
			WHERE id = $1 RETURNING `+customerColumns, args...))
		return err
	})
	return out, dbError(err, "customer", id)
}

// DeleteCustomer marks the customer deleted. Its ledger and payments stay; a
// customer with active services can't be deleted.
func (s *Store) DeleteCustomer(ctx context.Context, id int64) (billing.Customer, error) {
	var out billing.Customer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if c.Status == billing.CustomerDeleted {
			out = c
			return nil
		}
		var active int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM subscriptions WHERE customer_id = $1
			AND status IN ('unpaid', 'active', 'suspended')`, id).Scan(&active); err != nil {
			return err
		}
		if active > 0 {
			return billing.Errorf(billing.ECONFLICT, "customer %d has %d services that are not deleted yet; cancel them first", id, active)
		}
		out, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET status = 'deleted',
			updated_at = now() WHERE id = $1 RETURNING `+customerColumns, id))
		return err
	})
	return out, dbError(err, "customer", id)
}

var customerSorts = map[string]string{
	"id": "id", "-id": "id DESC",
	"name": "lower(name), id", "-name": "lower(name) DESC, id DESC",
	"registered_at": "registered_at, id", "-registered_at": "registered_at DESC, id DESC",
}

// ValidCustomerSort reports whether sort is a sort order Customers accepts.
func ValidCustomerSort(sort string) bool {
	_, ok := customerSorts[sort]
	return ok || sort == ""
}

// Customers lists the customers that match f, one page at a time.
func (s *Store) Customers(ctx context.Context, f billing.CustomerFilter) (billing.Page[billing.Customer], error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ID != nil {
		where = append(where, "id = "+arg(*f.ID))
	}
	if f.Name != "" {
		where = append(where, "name ILIKE '%' || "+arg(escapeLike(f.Name))+" || '%'")
	}
	if f.Project != "" {
		where = append(where, "project = "+arg(f.Project))
	}
	if f.Group != "" {
		where = append(where, "customer_group = "+arg(f.Group))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.HasActiveServices != nil {
		not := ""
		if !*f.HasActiveServices {
			not = "NOT "
		}
		where = append(where, not+`EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = customers.id AND s.status = 'active')`)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	order, ok := customerSorts[f.Sort]
	if !ok {
		order = "id"
	}
	page := billing.Page[billing.Customer]{Items: []billing.Customer{}}
	page.Limit, page.Offset = clampPage(f.Limit, f.Offset)
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM customers`+cond, args...).Scan(&page.Total); err != nil {
		return page, dbError(err, "customer", "")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+customerColumns+` FROM customers`+cond+
		` ORDER BY `+order+` LIMIT `+arg(page.Limit)+` OFFSET `+arg(page.Offset), args...)
	if err != nil {
		return page, dbError(err, "customer", "")
	}
	page.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Customer, error) { return scanCustomer(r) })
	if page.Items == nil {
		page.Items = []billing.Customer{}
	}
	return page, dbError(err, "customer", "")
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
