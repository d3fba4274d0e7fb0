package store_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestCustomerReadsAgree checks that every path that returns a customer (the
// insert, a read, the hand-built list, an update, a delete) gives the same
// row: the address as PostgreSQL's host() prints it and the company details.
func TestCustomerReadsAgree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t, func(in *billing.CustomerCreate) {
		in.AccountType = billing.AccountCompany
		in.RegistrationIP = "::ffff:192.0.2.1"
		in.Company = &billing.CompanyDetails{LegalName: "Acme GmbH", TaxID: "DE123"}
	})
	require.Equal(t, "::ffff:192.0.2.1", c.RegistrationIP)
	require.Equal(t, &billing.CompanyDetails{LegalName: "Acme GmbH", TaxID: "DE123"}, c.Company)

	got, err := b.store.Customer(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	list, err := b.store.Customers(b.ctx, billing.CustomerFilter{ID: &c.ID})
	require.NoError(t, err)
	require.Equal(t, []billing.Customer{c}, list.Items)

	individual, none := billing.AccountIndividual, ""
	up, err := b.store.UpdateCustomer(b.ctx, c.ID, billing.CustomerUpdate{AccountType: &individual, RegistrationIP: &none})
	require.NoError(t, err)
	require.Nil(t, up.Company)
	require.Empty(t, up.RegistrationIP)
	del, err := b.store.DeleteCustomer(b.ctx, c.ID)
	require.NoError(t, err)
	up.Status, up.UpdatedAt = billing.CustomerDeleted, del.UpdatedAt
	require.Equal(t, up, del)
}

// TestAuditEntriesFilters checks the hand-built audit list: its filters, its
// order and the columns it reads back.
func TestAuditEntriesFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	action := "test." + rand.Text()[:8]
	first := &billing.AuditEntry{ActorKind: billing.ActorSystem, Action: action, IP: "2001:db8::1",
		Details: map[string]any{"n": float64(1), "why": "first"}}
	first.SetObject("customer", c.ID, c.ID)
	require.NoError(t, b.store.Audit(b.ctx, first))
	second := &billing.AuditEntry{ActorKind: billing.ActorAnonymous, Action: action}
	require.NoError(t, b.store.Audit(b.ctx, second))
	require.NotZero(t, first.ID)
	require.False(t, first.At.IsZero())

	list := func(f billing.AuditFilter) []billing.AuditEntry {
		t.Helper()
		f.Action = action
		p, err := b.store.AuditEntries(b.ctx, f)
		require.NoError(t, err)
		require.Len(t, p.Items, p.Total)
		return p.Items
	}
	all := list(billing.AuditFilter{})
	require.Len(t, all, 2)
	require.Equal(t, second.ID, all[0].ID, "newest first")
	got := all[1]
	require.Equal(t, "2001:db8::1", got.IP)
	require.Equal(t, map[string]any{"n": float64(1), "why": "first"}, got.Details)
	require.Equal(t, &c.ID, got.CustomerID)
	require.Equal(t, "customer", got.ObjectType)
	require.Empty(t, all[0].IP)
	require.Equal(t, map[string]any{}, all[0].Details)

	require.Len(t, list(billing.AuditFilter{CustomerID: &c.ID}), 1)
	require.Len(t, list(billing.AuditFilter{ActorKind: billing.ActorAnonymous}), 1)
	require.Len(t, list(billing.AuditFilter{ObjectType: "customer", ObjectID: first.ObjectID}), 1)
	since := first.At.Add(-time.Second)
	require.Len(t, list(billing.AuditFilter{Since: &since, Until: &second.At}), 1, "until excludes its instant")
	p, err := b.store.AuditEntries(b.ctx, billing.AuditFilter{Action: action, PageRequest: billing.PageRequest{Limit: 1, Offset: 1}})
	require.NoError(t, err)
	require.Equal(t, billing.Page[billing.AuditEntry]{Items: []billing.AuditEntry{got}, Total: 2, Limit: 1, Offset: 1}, p)
}

// TestEmptyListsAreNotNil checks that a list with nothing in it is an empty
// slice, which JSON writes as [], not null.
func TestEmptyListsAreNotNil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	payers, err := b.store.Payers(b.ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, payers)
	require.Empty(t, payers)
	ids, err := b.store.LiveSubscriptionIDs(b.ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, ids)
	require.Empty(t, ids)
	notices, err := b.store.Notices(b.ctx, -1)
	require.NoError(t, err)
	require.NotNil(t, notices)
	ledger, err := b.store.Ledger(b.ctx, c.ID, 0, 0)
	require.NoError(t, err)
	require.NotNil(t, ledger.Items)
	require.Equal(t, 50, ledger.Limit)
	balance, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, balance.Balances)
	subs, err := b.store.Subscriptions(b.ctx, billing.SubscriptionFilter{CustomerID: &c.ID})
	require.NoError(t, err)
	require.NotNil(t, subs.Items)
	require.Zero(t, subs.Total)
}
