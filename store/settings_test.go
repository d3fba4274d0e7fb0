package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// TestSettingsDefaultsUntilStored: without a stored row the defaults hold;
// the first change stores them with it; after that, other defaults change
// nothing.
func TestSettingsDefaultsUntilStored(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := store.New(dbtest.OwnPool(t))
	env := billing.DefaultSettings()
	env.GraceDays = 9

	_, stored, err := st.StoredSettings(ctx)
	require.NoError(t, err)
	require.False(t, stored)
	got, err := st.Settings(ctx, env)
	require.NoError(t, err)
	require.Equal(t, env, got)
	require.Nil(t, got.UpdatedAt)

	changed, err := st.UpdateSettings(ctx, env, billing.SettingsUpdate{NearDeletePeriod: &[]int{1, 2}})
	require.NoError(t, err)
	require.NotNil(t, changed.UpdatedAt)
	require.Equal(t, 9, changed.GraceDays, "the defaults are stored with the first change")
	require.Equal(t, []int{2, 1}, changed.NearDeletePeriod)

	other := billing.DefaultSettings()
	got, err = st.Settings(ctx, other)
	require.NoError(t, err)
	require.Equal(t, changed, got, "once stored, the defaults are ignored")
	got, err = st.UpdateSettings(ctx, other, billing.SettingsUpdate{LowMoneyExpirePeriod: &[]int{}})
	require.NoError(t, err)
	require.Equal(t, 9, got.GraceDays)
	require.Equal(t, []int{}, got.LowMoneyExpirePeriod)
	require.Equal(t, []int{2, 1}, got.NearDeletePeriod)
}

// TestSettingsChangeIsAudited: the audit entry names each setting that
// changed, before and after; a refused change stores nothing, not even the
// defaults, and leaves no entry.
func TestSettingsChangeIsAudited(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.OwnPool(t))
	staff, err := st.CreateStaff(t.Context(), billing.StaffCreate{Login: "settings", Email: "settings@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}}, "hash")
	require.NoError(t, err)
	staffID := staff.ID
	audited := func() (*billing.AuditEntry, func() billing.Page[billing.AuditEntry]) {
		e := billing.NewAuditEntry(billing.Principal{Kind: billing.ActorStaff, StaffID: staffID}, "updateSettings", "192.0.2.1")
		return e, func() billing.Page[billing.AuditEntry] {
			page, err := st.AuditEntries(t.Context(), billing.AuditFilter{Action: "updateSettings", PageRequest: billing.PageRequest{Limit: 10}})
			require.NoError(t, err)
			return page
		}
	}
	e, entries := audited()
	grace := -1
	_, err = st.UpdateSettings(billing.WithAudit(t.Context(), e), billing.DefaultSettings(), billing.SettingsUpdate{GraceDays: &grace})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	_, stored, err := st.StoredSettings(t.Context())
	require.NoError(t, err)
	require.False(t, stored)
	require.Zero(t, entries().Total)

	e, entries = audited()
	lang, yes := "de", true
	_, err = st.UpdateSettings(billing.WithAudit(t.Context(), e), billing.DefaultSettings(), billing.SettingsUpdate{
		DefaultLanguage: &lang, NearDeletePeriod: &[]int{7, 5, 3, 1}, PayerVerification: &billing.PayerVerificationUpdate{Company: &yes}})
	require.NoError(t, err)
	page := entries()
	require.Equal(t, 1, page.Total)
	got := page.Items[0]
	require.Equal(t, "settings", got.ObjectType)
	require.Equal(t, &staffID, got.StaffID)
	require.Equal(t, map[string]any{
		"default_language": map[string]any{"from": "en", "to": "de"},
		"payer_verification": map[string]any{
			"from": map[string]any{"individual": false, "company": false, "sole_proprietor": false},
			"to":   map[string]any{"individual": false, "company": true, "sole_proprietor": false}},
	}, got.Details, "near_delete_period was sent unchanged: not named")
}

// TestConcurrentFirstSettingsChanges: two first changes at once both hold;
// neither overwrites the other with the defaults.
func TestConcurrentFirstSettingsChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := store.New(dbtest.OwnPool(t))
	grace, suspend := 30, 4
	updates := []billing.SettingsUpdate{{GraceDays: &grace}, {SuspendAfterDays: &suspend}}
	var wg sync.WaitGroup
	errs := make([]error, len(updates))
	for i, u := range updates {
		wg.Go(func() { _, errs[i] = st.UpdateSettings(ctx, billing.DefaultSettings(), u) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	got, err := st.Settings(ctx, billing.DefaultSettings())
	require.NoError(t, err)
	require.Equal(t, 30, got.GraceDays)
	require.Equal(t, 4, got.SuspendAfterDays)
}
