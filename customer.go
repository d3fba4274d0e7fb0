package billing

import (
	"net/netip"
	"time"
)

// Account types of a customer (and of a payer).
const (
	AccountIndividual     = "individual"
	AccountCompany        = "company"
	AccountSoleProprietor = "sole_proprietor"
)

// Customer statuses. A deleted customer keeps its history (ledger, payments).
const (
	CustomerActive  = "active"
	CustomerDeleted = "deleted"
)

// Staff attitudes to a client: a private note on how easy the client is to work with.
const (
	AttitudePositive = "positive"
	AttitudeNeutral  = "neutral"
	AttitudeNegative = "negative"
)

// Customer is an account that orders and pays for services. It has users (who
// sign in) and payers (who appear on invoices).
type Customer struct {
	ID             int64           `json:"id"`
	AccountType    string          `json:"account_type"`
	Name           string          `json:"name"`
	ContactPerson  string          `json:"contact_person"`
	Country        string          `json:"country"`
	Language       string          `json:"language"`
	TimeZone       string          `json:"time_zone"`
	RegisteredAt   time.Time       `json:"registered_at"`
	RegistrationIP string          `json:"registration_ip"`
	VerifiedPhone  string          `json:"verified_phone"`
	Note           string          `json:"note,omitempty"`     // staff only
	Attitude       string          `json:"attitude,omitempty"` // staff only
	PostPaid       bool            `json:"post_paid"`
	Group          string          `json:"group"`
	Project        string          `json:"project"`
	Status         string          `json:"status"`
	Company        *CompanyDetails `json:"company"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	// VerifiedAt is when the client confirmed the account verification
	// link (the setting client_verification); nil until then.
	VerifiedAt *time.Time `json:"verified_at"`
}

// CompanyDetails are the contact details only a company account has.
type CompanyDetails struct {
	LegalName          string `json:"legal_name"`
	RegistrationNumber string `json:"registration_number"`
	TaxID              string `json:"tax_id"`
	Address            string `json:"address"`
	Website            string `json:"website"`
}

// CustomerCreate registers a customer together with its main user.
type CustomerCreate struct {
	AccountType    string          `json:"account_type"`
	Name           string          `json:"name"`
	ContactPerson  string          `json:"contact_person"`
	Country        string          `json:"country"`
	Language       string          `json:"language"`
	TimeZone       string          `json:"time_zone"`
	RegistrationIP string          `json:"registration_ip"`
	VerifiedPhone  string          `json:"verified_phone"`
	Note           string          `json:"note"`
	Attitude       string          `json:"attitude"`
	PostPaid       bool            `json:"post_paid"`
	Group          string          `json:"group"`
	Project        string          `json:"project"`
	Company        *CompanyDetails `json:"company"`
	User           UserCreate      `json:"user"`
}

// Defaults fills the optional fields a registration form leaves empty.
func (c *CustomerCreate) Defaults() {
	if c.Language == "" {
		c.Language = "en"
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	if c.Attitude == "" {
		c.Attitude = AttitudeNeutral
	}
	if c.Project == "" {
		c.Project = DefaultProject
	}
	if c.User.Language == "" {
		c.User.Language = c.Language
	}
}

// DefaultProject is the project customers join unless another is named.
const DefaultProject = "default"

// Validate reports every invalid field of c.
func (c *CustomerCreate) Validate() error {
	var v Validator
	c.validateProfile(&v)
	c.User.validate(&v, "user.")
	return v.Err()
}

func (c *CustomerCreate) validateProfile(v *Validator) {
	v.OneOf("account_type", c.AccountType, AccountIndividual, AccountCompany, AccountSoleProprietor)
	v.Text("name", c.Name, 200)
	v.OptionalText("contact_person", c.ContactPerson, 200)
	v.Country("country", c.Country)
	v.Language("language", c.Language)
	v.TimeZone("time_zone", c.TimeZone)
	if c.RegistrationIP != "" {
		_, err := netip.ParseAddr(c.RegistrationIP)
		v.Check(err == nil, "registration_ip", "must be an IPv4 or IPv6 address")
	}
	if c.VerifiedPhone != "" {
		v.Phone("verified_phone", c.VerifiedPhone)
	}
	v.LongText("note", c.Note, 10000)
	v.OneOf("attitude", c.Attitude, AttitudePositive, AttitudeNeutral, AttitudeNegative)
	v.OptionalText("group", c.Group, 100)
	v.Text("project", c.Project, 100)
	validateCompany(v, c.AccountType, c.Company)
}

func validateCompany(v *Validator, accountType string, c *CompanyDetails) {
	if accountType != AccountCompany {
		v.Check(c == nil, "company", "is only for accounts of type company")
		return
	}
	v.Check(c != nil, "company", "is required for a company: give at least company.legal_name")
	if c == nil {
		return
	}
	v.Text("company.legal_name", c.LegalName, 300)
	v.OptionalText("company.registration_number", c.RegistrationNumber, 100)
	v.OptionalText("company.tax_id", c.TaxID, 100)
	v.OptionalText("company.address", c.Address, 500)
	v.OptionalText("company.website", c.Website, 300)
}

// CustomerUpdate changes the fields that are set; nil fields stay as they are.
type CustomerUpdate struct {
	AccountType    *string         `json:"account_type"`
	Name           *string         `json:"name"`
	ContactPerson  *string         `json:"contact_person"`
	Country        *string         `json:"country"`
	Language       *string         `json:"language"`
	TimeZone       *string         `json:"time_zone"`
	RegisteredAt   *time.Time      `json:"registered_at"`
	RegistrationIP *string         `json:"registration_ip"`
	VerifiedPhone  *string         `json:"verified_phone"`
	Note           *string         `json:"note"`
	Attitude       *string         `json:"attitude"`
	PostPaid       *bool           `json:"post_paid"`
	Group          *string         `json:"group"`
	Project        *string         `json:"project"`
	Company        *CompanyDetails `json:"company"`
}

// Apply returns c with the update applied, validated as a whole.
func (u *CustomerUpdate) Apply(c Customer) (Customer, error) {
	set(&c.AccountType, u.AccountType)
	set(&c.Name, u.Name)
	set(&c.ContactPerson, u.ContactPerson)
	set(&c.Country, u.Country)
	set(&c.Language, u.Language)
	set(&c.TimeZone, u.TimeZone)
	set(&c.RegisteredAt, u.RegisteredAt)
	set(&c.RegistrationIP, u.RegistrationIP)
	set(&c.VerifiedPhone, u.VerifiedPhone)
	set(&c.Note, u.Note)
	set(&c.Attitude, u.Attitude)
	set(&c.PostPaid, u.PostPaid)
	set(&c.Group, u.Group)
	set(&c.Project, u.Project)
	if u.Company != nil {
		c.Company = u.Company
	}
	if c.AccountType != AccountCompany {
		c.Company = nil
	}
	check := CustomerCreate{
		AccountType: c.AccountType, Name: c.Name, ContactPerson: c.ContactPerson, Country: c.Country,
		Language: c.Language, TimeZone: c.TimeZone, RegistrationIP: c.RegistrationIP,
		VerifiedPhone: c.VerifiedPhone, Note: c.Note, Attitude: c.Attitude, Group: c.Group,
		Project: c.Project, Company: c.Company,
	}
	var v Validator
	if u.Company != nil && c.AccountType != AccountCompany {
		v.Check(false, "company", "is only for accounts of type company")
	}
	check.validateProfile(&v)
	v.Check(!c.RegisteredAt.IsZero(), "registered_at", "must be a date and time")
	return c, v.Err()
}

// ForClient returns c without what only staff may see: their note and their
// attitude to the client.
func (c Customer) ForClient() Customer {
	c.Note, c.Attitude = "", ""
	return c
}

// StaffFields reports which fields of u only staff may change.
func (u *CustomerUpdate) StaffFields() map[string]bool {
	return map[string]bool{"note": u.Note != nil, "attitude": u.Attitude != nil, "post_paid": u.PostPaid != nil,
		"group": u.Group != nil, "project": u.Project != nil, "registered_at": u.RegisteredAt != nil,
		"registration_ip": u.RegistrationIP != nil, "verified_phone": u.VerifiedPhone != nil}
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// CustomerFilter selects customers for a list. Zero fields don't filter.
type CustomerFilter struct {
	ID                *int64
	Name              string // case-insensitive substring
	Project           string
	Group             string
	Status            string
	HasActiveServices *bool
	Sort              string // id, -id, name, -name, registered_at, -registered_at
	PageRequest
}

// DeletionWarningDays is how many days before its deletion for inactivity
// (the setting delete_inactive_clients_days) a customer is warned.
const DeletionWarningDays = 7

// InactiveCustomer is a customer that may be deleted for inactivity: active,
// no live service, a zero balance in every currency, and no activity (a
// client sign-in, a payment, an order; else its registration) since
// LastActivity. WarnedAt is when it was warned, if it was after that.
type InactiveCustomer struct {
	ID           int64      `json:"id"`
	LastActivity time.Time  `json:"last_activity"`
	WarnedAt     *time.Time `json:"warned_at,omitempty"`
}
