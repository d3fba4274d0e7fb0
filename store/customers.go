package store

import (
	"context"
	"errors"
	"strings"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// customerFromRow converts a customer row. The queries of customers.sql read
// the same columns; their rows convert to dbsqlc.CustomerGetRow, and the
// compiler says so if one of them drifts.
func customerFromRow(r dbsqlc.CustomerGetRow) billing.Customer {
	c := billing.Customer{ID: r.ID, AccountType: r.AccountType, Name: r.Name, ContactPerson: r.ContactPerson,
		Country: r.Country, Language: r.Language, TimeZone: r.TimeZone, RegisteredAt: r.RegisteredAt,
		RegistrationIP: r.RegistrationIP, VerifiedPhone: r.VerifiedPhone, Note: r.Note, Attitude: r.Attitude,
		PostPaid: r.PostPaid, Group: r.CustomerGroup, Project: r.Project, Status: r.Status,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, VerifiedAt: r.VerifiedAt}
	if r.CompanyLegalName != nil {
		c.Company = &billing.CompanyDetails{LegalName: *r.CompanyLegalName, RegistrationNumber: deref(r.CompanyRegistrationNumber),
			TaxID: deref(r.CompanyTaxID), Address: deref(r.CompanyAddress), Website: deref(r.CompanyWebsite)}
	}
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// companyColumns are the company columns, all NULL for a non-company.
type companyColumns struct{ legalName, registrationNumber, taxID, address, website *string }

func companyArgs(c *billing.CompanyDetails) companyColumns {
	if c == nil {
		return companyColumns{}
	}
	return companyColumns{&c.LegalName, &c.RegistrationNumber, &c.TaxID, &c.Address, &c.Website}
}

// CreateCustomer registers a customer and its main user in one transaction.
// passwordHash is the argon2id hash of the user's password.
func (s *Store) CreateCustomer(ctx context.Context, in billing.CustomerCreate, passwordHash string) (billing.Customer, billing.User, error) {
	return s.createCustomer(ctx, in, passwordHash, nil)
}

// createCustomer is CreateCustomer; then, in the same transaction, it runs
// after (if not nil) with the new customer and user.
func (s *Store) createCustomer(ctx context.Context, in billing.CustomerCreate, passwordHash string,
	after func(q *dbsqlc.Queries, c billing.Customer, u billing.User) error) (billing.Customer, billing.User, error) {
	var c billing.Customer
	var u billing.User
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		co := companyArgs(in.Company)
		row, err := q.CustomerInsert(ctx, dbsqlc.CustomerInsertParams{AccountType: in.AccountType, Name: in.Name,
			ContactPerson: in.ContactPerson, Country: in.Country, Language: in.Language, TimeZone: in.TimeZone,
			RegistrationIP: in.RegistrationIP, VerifiedPhone: in.VerifiedPhone, Note: in.Note, Attitude: in.Attitude,
			PostPaid: in.PostPaid, CustomerGroup: in.Group, Project: in.Project, CompanyLegalName: co.legalName,
			CompanyRegistrationNumber: co.registrationNumber, CompanyTaxID: co.taxID, CompanyAddress: co.address,
			CompanyWebsite: co.website})
		if err != nil {
			return err
		}
		c = customerFromRow(dbsqlc.CustomerGetRow(row))
		u, err = insertUser(ctx, q, c.ID, in.User, passwordHash, true)
		auditObject(ctx, "customer", c.ID, c.ID)
		if err != nil || after == nil {
			return prefixFields(err, "user.")
		}
		return after(q, c, u)
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
	row, err := s.q.CustomerGet(ctx, id)
	return customerFromRow(row), dbError(err, "customer", id)
}

// UpdateCustomer applies up to the customer with id under a row lock, so two
// concurrent updates don't lose each other's fields.
func (s *Store) UpdateCustomer(ctx context.Context, id int64, up billing.CustomerUpdate) (billing.Customer, error) {
	var out billing.Customer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.CustomerGetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		c := customerFromRow(dbsqlc.CustomerGetRow(row))
		if c.Status == billing.CustomerDeleted {
			return billing.Errorf(billing.ECONFLICT, "customer %d is deleted and can't be changed", id)
		}
		c, err = up.Apply(c)
		if err != nil {
			return err
		}
		co := companyArgs(c.Company)
		updated, err := q.CustomerUpdate(ctx, dbsqlc.CustomerUpdateParams{ID: id, AccountType: c.AccountType, Name: c.Name,
			ContactPerson: c.ContactPerson, Country: c.Country, Language: c.Language, TimeZone: c.TimeZone,
			RegisteredAt: c.RegisteredAt, RegistrationIP: c.RegistrationIP, VerifiedPhone: c.VerifiedPhone, Note: c.Note,
			Attitude: c.Attitude, PostPaid: c.PostPaid, CustomerGroup: c.Group, Project: c.Project,
			CompanyLegalName: co.legalName, CompanyRegistrationNumber: co.registrationNumber, CompanyTaxID: co.taxID,
			CompanyAddress: co.address, CompanyWebsite: co.website})
		out = customerFromRow(dbsqlc.CustomerGetRow(updated))
		return err
	})
	return out, dbError(err, "customer", id)
}

// DeleteCustomer marks the customer deleted. Its ledger and payments stay; a
// customer with active services can't be deleted.
func (s *Store) DeleteCustomer(ctx context.Context, id int64) (billing.Customer, error) {
	var out billing.Customer
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.CustomerGetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if out = customerFromRow(dbsqlc.CustomerGetRow(row)); out.Status == billing.CustomerDeleted {
			return nil
		}
		active, err := q.CustomerCountLiveSubscriptions(ctx, id)
		if err != nil {
			return err
		}
		if active > 0 {
			return billing.Errorf(billing.ECONFLICT, "customer %d has %d services that are not deleted yet; cancel them first", id, active)
		}
		deleted, err := q.CustomerMarkDeleted(ctx, id)
		out = customerFromRow(dbsqlc.CustomerGetRow(deleted))
		return err
	})
	return out, dbError(err, "customer", id)
}

// customerColumns are the columns of customers.sql's rows, for the list.
const customerColumns = `id, account_type, name, contact_person, country, language, time_zone,
	registered_at, coalesce(host(registration_ip), '') AS registration_ip, verified_phone, note, attitude,
	post_paid, customer_group, project, status, company_legal_name, company_registration_number,
	company_tax_id, company_address, company_website, created_at, updated_at, verified_at`

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

// CustomerCountLimit is how many matches a customer list counts at most:
// counting 100,000 customers on every page would cost more than reading the
// page (issue 15); past it the page says total_capped.
const CustomerCountLimit = 1000

// Customers lists the customers that match f, one page at a time. Its total
// counts up to CustomerCountLimit matches.
func (s *Store) Customers(ctx context.Context, f billing.CustomerFilter) (billing.Page[billing.Customer], error) {
	q := listQuery{countLimit: CustomerCountLimit}
	if f.ID != nil {
		q.filter("id = %s", *f.ID)
	}
	if f.Name != "" {
		q.filter("name ILIKE %s", "%"+escapeLike(f.Name)+"%")
	}
	if f.Project != "" {
		q.filter("project = %s", f.Project)
	}
	if f.Group != "" {
		q.filter("customer_group = %s", f.Group)
	}
	if f.Status != "" {
		q.filter("status = %s", f.Status)
	}
	if f.HasActiveServices != nil {
		not := ""
		if !*f.HasActiveServices {
			not = "NOT "
		}
		q.filter(not + `EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = customers.id AND s.status = 'active')`)
	}
	order, ok := customerSorts[f.Sort]
	if !ok {
		order = "id"
	}
	p, err := listPage(ctx, s.db, "customers", customerColumns, q, order, f.PageRequest, customerFromRow)
	return p, dbError(err, "customer", "")
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
