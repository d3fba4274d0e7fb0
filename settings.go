package billing

import (
	"fmt"
	"slices"
	"time"
)

// Client verification modes: when a new client is asked to verify their
// account (seed 000, "Account verification").
const (
	ClientVerificationNone              = "none"
	ClientVerificationAfterRegistration = "after_registration"
	ClientVerificationAfterFirstPayment = "after_first_payment"
)

// Bounds of the settings.
const (
	MaxSettingDays  = 3650 // any day count or offset
	MaxNoticeDays   = 100  // days listed in one notice period
	MaxUnpaidOrders = 10000
)

// Policy is the part of the settings that subscriptions run with: when
// their notices, suspension, deletion and an unpaid order's expiry fall.
// Workflows carry it in their input and state, so its fields keep their Go
// names in histories (no JSON tags).
type Policy struct {
	// LowMoneyDays: days before the paid-until date on which "insufficient
	// funds" or "going to expire" notices go out (LowMoneyExpirePeriod).
	LowMoneyDays []int
	// NearDeleteDays: days before deletion on which "will be deleted soon"
	// notices go out (NearDeletePeriod).
	NearDeleteDays []int
	// GraceDays: days a suspended service is kept before deletion, unless
	// its product says otherwise.
	GraceDays int
	// SuspendAfterDays: days after a failed renewal before suspension; a
	// payment in between renews the service.
	SuspendAfterDays int
	// UnpaidOrderDays: days an order waits for its first payment before it
	// expires (cancelled, with a notice); 0: it waits for ever (subscriptions
	// started before the setting existed).
	UnpaidOrderDays int
	// MaxUnpaidOrders: how many orders of a customer may wait for a payment
	// at once (0: no limit). An order refused its first charge beyond it is
	// cancelled at once; the API refuses new orders at it (409).
	MaxUnpaidOrders int
}

// Settings are the global settings (seed 000's "Global settings"), changed
// through PATCH /api/v1/settings. UpdatedAt is nil while none were stored:
// the values are then the defaults the API was started with.
type Settings struct {
	// NearDeletePeriod: days before deletion of the "will be deleted soon" notices.
	NearDeletePeriod []int `json:"near_delete_period"`
	// LowMoneyNoticePeriod: days before a customer's money runs out of the
	// low balance notices (for daily charges; stored, not used yet).
	LowMoneyNoticePeriod []int `json:"low_money_notice_period"`
	// LowMoneyExpirePeriod: days before the paid-until date of the
	// "insufficient funds" and "going to expire" notices.
	LowMoneyExpirePeriod []int `json:"low_money_expire_period"`
	GraceDays            int   `json:"grace_days"`
	SuspendAfterDays     int   `json:"suspend_after_days"`
	UnpaidOrderDays      int   `json:"unpaid_order_days"`
	MaxUnpaidOrders      int   `json:"max_unpaid_orders"`
	// VerifyClientEmail: new clients confirm their email address.
	VerifyClientEmail bool `json:"verify_client_email"`
	// ClientVerification: when clients are verified (ClientVerification*).
	ClientVerification string `json:"client_verification"`
	// PayerVerification: whether payers of each account type are verified by email.
	PayerVerification PayerVerification `json:"payer_verification"`
	// DeleteInactiveClientsDays: clients inactive this many days are deleted; 0: never.
	DeleteInactiveClientsDays int `json:"delete_inactive_clients_days"`
	// DefaultLanguage: the language of notices when neither the user nor the
	// customer has one, a BCP 47 tag such as en.
	DefaultLanguage string `json:"default_language"`
	// AutoInvoicing: each period charge of a customer who is not post-paid
	// issues an invoice (see invoice.go).
	AutoInvoicing bool `json:"auto_invoicing"`
	// InvoiceProvider: the provider's name and legal details as invoices show
	// them (lines separated by newlines).
	InvoiceProvider string `json:"invoice_provider"`
	// ResourceNotifyPercent: "notify when a client reaches its limits", the
	// percentage of a resource's included amount whose use in a period sends
	// the resource_threshold notice; 0: never.
	ResourceNotifyPercent int        `json:"resource_notify_percent"`
	UpdatedAt             *time.Time `json:"updated_at"`
}

// PayerVerification says, per account type, whether payers are verified by email.
type PayerVerification struct {
	Individual     bool `json:"individual"`
	Company        bool `json:"company"`
	SoleProprietor bool `json:"sole_proprietor"`
}

// For reports whether payers of accountType are verified.
func (p PayerVerification) For(accountType string) bool {
	switch accountType {
	case AccountIndividual:
		return p.Individual
	case AccountCompany:
		return p.Company
	case AccountSoleProprietor:
		return p.SoleProprietor
	}
	return false
}

// DefaultSettings are BILLmanager's defaults (7 5 3 1; 10 5 4 3 2 1 0; 5 4
// 3 2 1 0), 14 days of grace, suspension a day after a failed renewal,
// unpaid orders expiring after 3 days, at most 5 of them, no verification,
// no deletion of inactive clients, English.
func DefaultSettings() Settings {
	return Settings{NearDeletePeriod: []int{7, 5, 3, 1}, LowMoneyNoticePeriod: []int{10, 5, 4, 3, 2, 1, 0},
		LowMoneyExpirePeriod: []int{5, 4, 3, 2, 1, 0}, GraceDays: 14, SuspendAfterDays: 1, UnpaidOrderDays: 3,
		MaxUnpaidOrders: 5, ClientVerification: ClientVerificationNone, DefaultLanguage: "en", ResourceNotifyPercent: 90}
}

// Policy returns what subscriptions run with.
func (s Settings) Policy() Policy {
	return Policy{LowMoneyDays: slices.Clone(s.LowMoneyExpirePeriod), NearDeleteDays: slices.Clone(s.NearDeletePeriod),
		GraceDays: s.GraceDays, SuspendAfterDays: s.SuspendAfterDays, UnpaidOrderDays: s.UnpaidOrderDays,
		MaxUnpaidOrders: s.MaxUnpaidOrders}
}

// Validate checks every setting.
func (s Settings) Validate() error {
	var v Validator
	s.check(&v)
	return v.Err()
}

func (s Settings) check(v *Validator) {
	v.noticeDays("near_delete_period", s.NearDeletePeriod)
	v.noticeDays("low_money_notice_period", s.LowMoneyNoticePeriod)
	v.noticeDays("low_money_expire_period", s.LowMoneyExpirePeriod)
	v.between("grace_days", s.GraceDays, 0, MaxSettingDays)
	v.between("suspend_after_days", s.SuspendAfterDays, 0, MaxSettingDays)
	v.between("unpaid_order_days", s.UnpaidOrderDays, 1, MaxSettingDays)
	v.between("max_unpaid_orders", s.MaxUnpaidOrders, 1, MaxUnpaidOrders)
	v.OneOf("client_verification", s.ClientVerification, ClientVerificationNone,
		ClientVerificationAfterRegistration, ClientVerificationAfterFirstPayment)
	v.between("delete_inactive_clients_days", s.DeleteInactiveClientsDays, 0, MaxSettingDays)
	v.LanguageTag("default_language", s.DefaultLanguage)
	v.Check(len(s.InvoiceProvider) <= 2000, "invoice_provider", "must be at most 2000 characters")
	v.between("resource_notify_percent", s.ResourceNotifyPercent, 0, 100)
}

func (v *Validator) between(field string, n, lo, hi int) {
	v.Check(n >= lo && n <= hi, field, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
}

// noticeDays checks a list of days such as [5, 4, 3, 2, 1, 0]: each from 0
// to MaxSettingDays, none twice (a repeated day is most likely a typo).
func (v *Validator) noticeDays(field string, days []int) {
	v.Check(days != nil, field, "is required: a list of days, [] for none")
	if len(days) > MaxNoticeDays {
		// Refused before the repeats are looked for: that check is quadratic,
		// and a body of 1 MB holds some 140,000 days.
		v.Check(false, field, fmt.Sprintf("must list at most %d days", MaxNoticeDays))
		return
	}
	for i, d := range days {
		v.Check(d >= 0 && d <= MaxSettingDays, field, fmt.Sprintf("must list days from 0 to %d", MaxSettingDays))
		v.Check(!slices.Contains(days[:i], d), field, fmt.Sprintf("lists %d twice", d))
	}
}

// SortDays orders a list of days from the most to the fewest, the way
// BILLmanager writes them (5 4 3 2 1 0), without repeats: the stored form.
func SortDays(days []int) []int {
	out := slices.Clone(days)
	slices.SortFunc(out, func(a, b int) int { return b - a })
	return slices.Compact(out)
}

// SettingsUpdate changes the settings that are set; nil fields stay as they are.
type SettingsUpdate struct {
	NearDeletePeriod          *[]int                   `json:"near_delete_period"`
	LowMoneyNoticePeriod      *[]int                   `json:"low_money_notice_period"`
	LowMoneyExpirePeriod      *[]int                   `json:"low_money_expire_period"`
	GraceDays                 *int                     `json:"grace_days"`
	SuspendAfterDays          *int                     `json:"suspend_after_days"`
	UnpaidOrderDays           *int                     `json:"unpaid_order_days"`
	MaxUnpaidOrders           *int                     `json:"max_unpaid_orders"`
	VerifyClientEmail         *bool                    `json:"verify_client_email"`
	ClientVerification        *string                  `json:"client_verification"`
	PayerVerification         *PayerVerificationUpdate `json:"payer_verification"`
	DeleteInactiveClientsDays *int                     `json:"delete_inactive_clients_days"`
	DefaultLanguage           *string                  `json:"default_language"`
	AutoInvoicing             *bool                    `json:"auto_invoicing"`
	InvoiceProvider           *string                  `json:"invoice_provider"`
	ResourceNotifyPercent     *int                     `json:"resource_notify_percent"`
}

// PayerVerificationUpdate changes the account types that are set.
type PayerVerificationUpdate struct {
	Individual     *bool `json:"individual"`
	Company        *bool `json:"company"`
	SoleProprietor *bool `json:"sole_proprietor"`
}

// Apply returns s with the update applied and validated as a whole. Lists
// of days may come in any order; they are kept from the most days to the
// fewest. A day listed twice is refused.
func (u SettingsUpdate) Apply(s Settings) (Settings, error) {
	var v Validator
	for _, l := range []struct {
		field string
		dst   *[]int
		src   *[]int
	}{{"near_delete_period", &s.NearDeletePeriod, u.NearDeletePeriod},
		{"low_money_notice_period", &s.LowMoneyNoticePeriod, u.LowMoneyNoticePeriod},
		{"low_money_expire_period", &s.LowMoneyExpirePeriod, u.LowMoneyExpirePeriod}} {
		if l.src == nil {
			continue
		}
		v.noticeDays(l.field, *l.src)
		*l.dst = SortDays(*l.src)
	}
	set(&s.GraceDays, u.GraceDays)
	set(&s.SuspendAfterDays, u.SuspendAfterDays)
	set(&s.UnpaidOrderDays, u.UnpaidOrderDays)
	set(&s.MaxUnpaidOrders, u.MaxUnpaidOrders)
	set(&s.VerifyClientEmail, u.VerifyClientEmail)
	set(&s.ClientVerification, u.ClientVerification)
	if p := u.PayerVerification; p != nil {
		set(&s.PayerVerification.Individual, p.Individual)
		set(&s.PayerVerification.Company, p.Company)
		set(&s.PayerVerification.SoleProprietor, p.SoleProprietor)
	}
	set(&s.DeleteInactiveClientsDays, u.DeleteInactiveClientsDays)
	set(&s.DefaultLanguage, u.DefaultLanguage)
	set(&s.AutoInvoicing, u.AutoInvoicing)
	set(&s.InvoiceProvider, u.InvoiceProvider)
	set(&s.ResourceNotifyPercent, u.ResourceNotifyPercent)
	s.check(&v) // after the lists as sent: a repeat is gone once sorted
	return s, v.Err()
}
