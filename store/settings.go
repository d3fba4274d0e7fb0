package store

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func settingsFromRow(r dbsqlc.Setting) billing.Settings {
	at := r.UpdatedAt
	return billing.Settings{NearDeletePeriod: r.NearDeletePeriod, LowMoneyNoticePeriod: r.LowMoneyNoticePeriod,
		LowMoneyExpirePeriod: r.LowMoneyExpirePeriod, GraceDays: r.GraceDays, SuspendAfterDays: r.SuspendAfterDays,
		UnpaidOrderDays: r.UnpaidOrderDays, MaxUnpaidOrders: r.MaxUnpaidOrders, VerifyClientEmail: r.VerifyClientEmail,
		ClientVerification: r.ClientVerification, PayerVerification: billing.PayerVerification{
			Individual: r.VerifyIndividualPayers, Company: r.VerifyCompanyPayers, SoleProprietor: r.VerifySoleProprietorPayers},
		DeleteInactiveClientsDays: r.DeleteInactiveClientsDays, DefaultLanguage: r.DefaultLanguage,
		AutoInvoicing: r.AutoInvoicing, InvoiceProvider: r.InvoiceProvider, ResourceNotifyPercent: r.ResourceNotifyPercent,
		UpdatedAt: &at}
}

// StoredSettings returns the stored settings, and false if none were stored yet.
func (s *Store) StoredSettings(ctx context.Context) (billing.Settings, bool, error) {
	row, err := s.q.SettingsGet(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Settings{}, false, nil
	}
	if err != nil {
		return billing.Settings{}, false, dbError(err, "settings", "")
	}
	return settingsFromRow(row), true, nil
}

// Settings returns the stored settings, or defaults if none were stored yet.
func (s *Store) Settings(ctx context.Context, defaults billing.Settings) (billing.Settings, error) {
	st, ok, err := s.StoredSettings(ctx)
	if !ok {
		return defaults, err
	}
	return st, err
}

// UpdateSettings applies u to the stored settings, under a lock on their
// row, and returns the result. The first change stores defaults with it.
// The audit entry of ctx, if any, names each setting that changed, with its
// value before and after.
func (s *Store) UpdateSettings(ctx context.Context, defaults billing.Settings, u billing.SettingsUpdate) (billing.Settings, error) {
	var out billing.Settings
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		d := defaults
		if err := q.SettingsInsert(ctx, dbsqlc.SettingsInsertParams{NearDeletePeriod: d.NearDeletePeriod,
			LowMoneyNoticePeriod: d.LowMoneyNoticePeriod, LowMoneyExpirePeriod: d.LowMoneyExpirePeriod,
			GraceDays: d.GraceDays, SuspendAfterDays: d.SuspendAfterDays, UnpaidOrderDays: d.UnpaidOrderDays,
			MaxUnpaidOrders: d.MaxUnpaidOrders, VerifyClientEmail: d.VerifyClientEmail,
			ClientVerification: d.ClientVerification, VerifyIndividualPayers: d.PayerVerification.Individual,
			VerifyCompanyPayers: d.PayerVerification.Company, VerifySoleProprietorPayers: d.PayerVerification.SoleProprietor,
			DeleteInactiveClientsDays: d.DeleteInactiveClientsDays, DefaultLanguage: d.DefaultLanguage,
			AutoInvoicing: d.AutoInvoicing, InvoiceProvider: d.InvoiceProvider,
			ResourceNotifyPercent: d.ResourceNotifyPercent}); err != nil {
			return err
		}
		row, err := q.SettingsLock(ctx)
		if err != nil {
			return err
		}
		before := settingsFromRow(row)
		n, err := u.Apply(before)
		if err != nil {
			return err
		}
		row, err = q.SettingsUpdate(ctx, dbsqlc.SettingsUpdateParams{NearDeletePeriod: n.NearDeletePeriod,
			LowMoneyNoticePeriod: n.LowMoneyNoticePeriod, LowMoneyExpirePeriod: n.LowMoneyExpirePeriod,
			GraceDays: n.GraceDays, SuspendAfterDays: n.SuspendAfterDays, UnpaidOrderDays: n.UnpaidOrderDays,
			MaxUnpaidOrders: n.MaxUnpaidOrders, VerifyClientEmail: n.VerifyClientEmail,
			ClientVerification: n.ClientVerification, VerifyIndividualPayers: n.PayerVerification.Individual,
			VerifyCompanyPayers: n.PayerVerification.Company, VerifySoleProprietorPayers: n.PayerVerification.SoleProprietor,
			DeleteInactiveClientsDays: n.DeleteInactiveClientsDays, DefaultLanguage: n.DefaultLanguage,
			AutoInvoicing: n.AutoInvoicing, InvoiceProvider: n.InvoiceProvider,
			ResourceNotifyPercent: n.ResourceNotifyPercent})
		if err != nil {
			return err
		}
		out = settingsFromRow(row)
		if e := billing.AuditFrom(ctx); e != nil {
			e.ObjectType = "settings"
			if e.Details == nil {
				e.Details = map[string]any{}
			}
			maps.Copy(e.Details, settingsChanges(before, out))
		}
		return nil
	})
	return out, dbError(err, "settings", "")
}

// settingsChanges names each setting that differs, as {"from": ..., "to": ...}.
func settingsChanges(before, after billing.Settings) map[string]any {
	flat := func(s billing.Settings) map[string]any {
		s.UpdatedAt = nil
		raw, _ := json.Marshal(s)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		delete(m, "updated_at")
		return m
	}
	b, a := flat(before), flat(after)
	out := map[string]any{}
	for k, v := range a {
		if !reflect.DeepEqual(b[k], v) {
			out[k] = map[string]any{"from": b[k], "to": v}
		}
	}
	return out
}
