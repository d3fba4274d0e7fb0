package billing

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Period units of a product. Seconds and minutes exist so that a demo or an
// end-to-end test can watch a whole lifecycle.
const (
	PeriodMonth  = "month"
	PeriodDay    = "day"
	PeriodMinute = "minute"
	PeriodSecond = "second"
)

// Payment states of a product's periodic charge (seed 002).
const (
	StateIncoming           = "incoming"
	StateApproved           = "approved"
	StateNonSufficientFunds = "non_sufficient_funds"
	StateDeclined           = "declined"
)

// PaymentStates lists the payment states in the order they are shown.
var PaymentStates = []string{StateIncoming, StateApproved, StateNonSufficientFunds, StateDeclined}

// Product statuses. An archived product can't be ordered; running services keep it.
const (
	ProductActive   = "active"
	ProductArchived = "archived"
)

// Product kinds: the kind picks the text of a service's "activated" notice
// (seed 000: activation of VPS, of shared hosting, of license); a license
// also has an updates-until date (UpdatesMonths).
const (
	KindVPS           = "vps"
	KindSharedHosting = "shared_hosting"
	KindLicense       = "license"
	KindOther         = "other"
)

// ProductKinds lists the product kinds.
var ProductKinds = []string{KindVPS, KindSharedHosting, KindLicense, KindOther}

// Product is a recurring chargeable unit: a price per billing period.
type Product struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency"`
	PeriodUnit   string `json:"period_unit"`
	PeriodCount  int    `json:"period_count"`
	AutoRenew    bool   `json:"auto_renew"`
	IncomingDays int    `json:"incoming_days"`
	// GraceDays is how long a suspended service is kept before deletion; nil
	// means the global default.
	GraceDays     *int                     `json:"grace_days"`
	PaymentStates map[string]NoticeSetting `json:"payment_states"`
	// Steps are the custom lifecycle steps this product runs (see the README).
	Steps []string `json:"steps"`
	// WebhookURL, if set, receives a signed JSON POST at every milestone.
	WebhookURL       string    `json:"webhook_url"`
	WebhookSecret    string    `json:"-"`
	WebhookSecretSet bool      `json:"webhook_secret_set"`
	Status           string    `json:"status"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	// Kind is one of ProductKinds; "other" by default.
	Kind string `json:"kind"`
	// UpdatesMonths, for a license, is how long after the order its
	// subscriptions receive updates (their updates_until date); 0: no date.
	UpdatesMonths int `json:"updates_months"`
	// OrderParameters are what an order gives to set the service up (a
	// domain name, an OS template...); a paid order lacking a required one
	// waits for it before it activates.
	OrderParameters []OrderParameter `json:"order_parameters"`
	// Resources are counted per period; usage beyond what is included is
	// charged at the period's end (see usage.go).
	Resources []Resource `json:"resources"`
	// SupportIncidents is how many support incidents each period's charge
	// of a subscription to it grants the customer (see incident.go).
	SupportIncidents int `json:"support_incidents"`
}

// OrderParameter is a value a product asks of an order.
type OrderParameter struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Required bool   `json:"required"`
}

// Limits of order parameters.
const (
	MaxOrderParameters     = 20
	MaxOrderParameterValue = 1000
)

var parameterNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)

// CheckParameters refuses values whose names the product doesn't declare,
// or that are empty or too long, naming each field ("parameters.domain").
func CheckParameters(declared []OrderParameter, values map[string]string) error {
	var v Validator
	for _, name := range slices.Sorted(maps.Keys(values)) {
		f := "parameters." + name
		v.Check(slices.ContainsFunc(declared, func(p OrderParameter) bool { return p.Name == name }), f,
			"is not a parameter of this product; it asks for "+parameterNames(declared))
		v.Text(f, values[name], MaxOrderParameterValue)
	}
	return v.Err()
}

// MissingParameters are the required parameters of declared that values lacks.
func MissingParameters(declared []OrderParameter, values map[string]string) []OrderParameter {
	var out []OrderParameter
	for _, p := range declared {
		if p.Required && values[p.Name] == "" {
			out = append(out, p)
		}
	}
	return out
}

func parameterNames(ps []OrderParameter) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// ProductForClient is what a client sees of a product: what it costs, per
// what period, and what happens around renewal. How the product is run
// (steps, webhook, notice texts, status, timestamps) is staff's business; a
// webhook URL may even carry a token.
type ProductForClient struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency"`
	PeriodUnit   string `json:"period_unit"`
	PeriodCount  int    `json:"period_count"`
	AutoRenew    bool   `json:"auto_renew"`
	IncomingDays int    `json:"incoming_days"`
	// GraceDays is how long a suspended service is kept before deletion: the
	// product's setting or the global default.
	GraceDays int `json:"grace_days"`
	// Kind is the product's kind (ProductKinds).
	Kind string `json:"kind"`
	// OrderParameters are what an order of it gives (POST /subscriptions).
	OrderParameters []OrderParameter `json:"order_parameters"`
	Resources       []Resource       `json:"resources"`
	// SupportIncidents each period includes.
	SupportIncidents int `json:"support_incidents"`
}

// ForClient returns the client's view of p; defaultGraceDays stands in for
// a GraceDays p leaves to the global default.
func (p Product) ForClient(defaultGraceDays int) ProductForClient {
	grace := defaultGraceDays
	if p.GraceDays != nil {
		grace = *p.GraceDays
	}
	return ProductForClient{ID: p.ID, Name: p.Name, Description: p.Description, Price: p.Price, Currency: p.Currency,
		PeriodUnit: p.PeriodUnit, PeriodCount: p.PeriodCount, AutoRenew: p.AutoRenew, IncomingDays: p.IncomingDays,
		GraceDays: grace, Kind: p.Kind, OrderParameters: p.OrderParameters,
		Resources: p.Resources, SupportIncidents: p.SupportIncidents}
}

// NoticeSetting says whether and how a client is told that a payment entered a
// state. Subject and bodies may use the variables of seed 002: [LOGIN],
// [USER_NAME], [USER_LASTNAME], [ACCOUNT_STATE], [DATE_OF_PAYMENT],
// [PAYMENT_NAME], [PAYMENT_AMOUNT].
type NoticeSetting struct {
	Email      bool   `json:"email"`
	SMS        bool   `json:"sms"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	SMSBody    string `json:"sms_body"`
	SenderName string `json:"sender_name"`
	ReplyTo    string `json:"reply_to"`
}

// ProductInput creates a product or replaces its settings.
type ProductInput struct {
	Name          string                   `json:"name"`
	Description   string                   `json:"description"`
	Price         *int64                   `json:"price"`
	Currency      string                   `json:"currency"`
	PeriodUnit    string                   `json:"period_unit"`
	PeriodCount   int                      `json:"period_count"`
	AutoRenew     *bool                    `json:"auto_renew"`
	IncomingDays  *int                     `json:"incoming_days"`
	GraceDays     *int                     `json:"grace_days"`
	PaymentStates map[string]NoticeSetting `json:"payment_states"`
	Steps         []string                 `json:"steps"`
	WebhookURL    string                   `json:"webhook_url"`
	// WebhookSecret signs webhook bodies; required with a WebhookURL, on every PUT too.
	WebhookSecret *string `json:"webhook_secret"`
	Status        string  `json:"status"`
	Kind          string  `json:"kind"`
	UpdatesMonths int     `json:"updates_months"`
	// OrderParameters: names are lower-case letters, digits and _, unique.
	OrderParameters []OrderParameter `json:"order_parameters"`
	// Resources replace the product's; a period already charged keeps those
	// it was charged with.
	Resources []Resource `json:"resources"`
	// SupportIncidents each period's charge grants (0: none).
	SupportIncidents int `json:"support_incidents"`
}

// Product returns the product p describes, with defaults for what it leaves out.
func (p *ProductInput) Product() Product {
	out := Product{
		Name: p.Name, Description: p.Description, Currency: p.Currency,
		PeriodUnit: p.PeriodUnit, PeriodCount: p.PeriodCount, AutoRenew: true, IncomingDays: 3,
		GraceDays: p.GraceDays, PaymentStates: map[string]NoticeSetting{}, Status: p.Status,
		Steps: p.Steps, WebhookURL: p.WebhookURL, Resources: p.Resources, Kind: p.Kind, UpdatesMonths: p.UpdatesMonths,
		SupportIncidents: p.SupportIncidents,
	}
	if out.Kind == "" {
		out.Kind = KindOther
	}
	out.OrderParameters = p.OrderParameters
	if out.OrderParameters == nil {
		out.OrderParameters = []OrderParameter{}
	}
	if out.Steps == nil {
		out.Steps = []string{}
	}
	if out.Resources == nil {
		out.Resources = []Resource{}
	}
	if p.WebhookSecret != nil {
		out.WebhookSecret = *p.WebhookSecret
	}
	if p.Price != nil {
		out.Price = *p.Price
	}
	if out.PeriodCount == 0 {
		out.PeriodCount = 1
	}
	set(&out.AutoRenew, p.AutoRenew)
	set(&out.IncomingDays, p.IncomingDays)
	for _, s := range PaymentStates {
		out.PaymentStates[s] = p.PaymentStates[s]
	}
	if out.Status == "" {
		out.Status = ProductActive
	}
	return out
}

// Validate reports every invalid field of p. stepNames are the custom steps
// the worker has registered.
func (p *ProductInput) Validate(stepNames []string) error {
	var v Validator
	v.Text("name", p.Name, 200)
	v.LongText("description", p.Description, 2000)
	v.Check(p.Price != nil, "price", "is required: the price per period in minor units (cents); 0 for a free product")
	if p.Price != nil {
		v.Check(*p.Price >= 0, "price", "must not be negative")
		v.Check(*p.Price <= MaxAmount, "price", fmt.Sprintf("must be at most %d minor units", MaxAmount))
	}
	v.Currency("currency", p.Currency)
	v.OneOf("period_unit", p.PeriodUnit, PeriodMonth, PeriodDay, PeriodMinute, PeriodSecond)
	v.Check(p.PeriodCount >= 0 && p.PeriodCount <= 1000, "period_count", "must be 1 to 1000 (default 1)")
	if p.IncomingDays != nil {
		v.Check(*p.IncomingDays >= 0 && *p.IncomingDays <= 365, "incoming_days", "must be 0 (no automatic payment) to 365")
	}
	if p.GraceDays != nil {
		v.Check(*p.GraceDays >= 0 && *p.GraceDays <= 3650, "grace_days", "must be 0 to 3650, or null for the global default")
	}
	if p.Status != "" {
		v.OneOf("status", p.Status, ProductActive, ProductArchived)
	}
	if p.WebhookURL != "" {
		u, err := url.Parse(p.WebhookURL)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(p.WebhookURL) <= 2000,
			"webhook_url", "must be an http or https URL")
		v.Check(p.WebhookSecret != nil && len(*p.WebhookSecret) >= 16, "webhook_secret", "is required with a webhook_url: at least 16 characters")
	}
	if p.WebhookSecret != nil {
		v.OptionalText("webhook_secret", *p.WebhookSecret, 200)
	}
	if p.Kind != "" {
		v.OneOf("kind", p.Kind, ProductKinds...)
	}
	v.Check(p.UpdatesMonths >= 0 && p.UpdatesMonths <= 1200, "updates_months", "must be 0 (no updates-until date) to 1200")
	v.Check(p.UpdatesMonths == 0 || p.Kind == KindLicense, "updates_months", `is for products of kind "license" only`)
	v.Check(len(p.OrderParameters) <= MaxOrderParameters, "order_parameters", fmt.Sprintf("at most %d", MaxOrderParameters))
	for i, op := range p.OrderParameters {
		f := fmt.Sprintf("order_parameters[%d]", i)
		v.Check(parameterNameRE.MatchString(op.Name), f+".name", "must be 1 to 50 lower-case letters, digits or _, starting with a letter")
		v.Check(!slices.ContainsFunc(p.OrderParameters[:i], func(o OrderParameter) bool { return o.Name == op.Name }), f+".name", "is listed twice")
		v.Text(f+".title", op.Title, 200)
	}
	for _, s := range p.Steps {
		v.OneOf("steps", s, stepNames...)
	}
	validateResources(&v, p.Resources)
	v.Check(p.SupportIncidents >= 0 && p.SupportIncidents <= MaxIncidentGrant, "support_incidents",
		fmt.Sprintf("must be 0 (none) to %d support incidents per period", MaxIncidentGrant))
	for state, n := range p.PaymentStates {
		f := "payment_states." + state
		v.OneOf(f, state, PaymentStates...)
		v.OptionalText(f+".subject", n.Subject, 300)
		v.LongText(f+".body", n.Body, 20000)
		v.LongText(f+".sms_body", n.SMSBody, 1600)
		v.OptionalText(f+".sender_name", n.SenderName, 100)
		if n.ReplyTo != "" {
			v.Email(f+".reply_to", n.ReplyTo)
		}
		if n.Email {
			v.Check(n.Subject != "" && n.Body != "", f+".email", "needs a subject and a body")
		}
		if n.SMS {
			v.Check(n.SMSBody != "", f+".sms", "needs an sms_body")
		}
	}
	return v.Err()
}

// AddPeriods returns t moved n billing periods of p on. Months are calendar
// months clamped to the month's last day: 31 January + 1 month is the last day
// of February, and since the day is kept from start, + 2 months is 31 March.
func (p Product) AddPeriods(start time.Time, n int) time.Time {
	return AddPeriods(start, p.PeriodUnit, p.PeriodCount*n)
}

// AddPeriods moves start on by n units, clamping months to their last day.
func AddPeriods(start time.Time, unit string, n int) time.Time {
	return AddPeriodsAnchored(start, unit, n, 0)
}

// AddPeriodsAnchored is AddPeriods for a service billed on day anchor of the
// month (0: start's day). A short month clamps only the period that ends in
// it: from 29 February with anchor 31, one month on is 31 March, not the 29th.
func AddPeriodsAnchored(start time.Time, unit string, n, anchor int) time.Time {
	switch unit {
	case PeriodMonth:
		y, m, d := start.Date()
		if anchor > 0 {
			d = anchor
		}
		first := time.Date(y, m+time.Month(n), 1, start.Hour(), start.Minute(), start.Second(), start.Nanosecond(), start.Location())
		last := first.AddDate(0, 1, -1).Day()
		return first.AddDate(0, 0, min(d, last)-1)
	case PeriodDay:
		return start.AddDate(0, 0, n)
	case PeriodMinute:
		return start.Add(time.Duration(n) * time.Minute)
	default:
		return start.Add(time.Duration(n) * time.Second)
	}
}
