package billing

import "time"

// Payer is the legal party that pays a customer's invoices.
type Payer struct {
	ID                 int64  `json:"id"`
	CustomerID         int64  `json:"customer_id"`
	Type               string `json:"type"`
	LegalName          string `json:"legal_name"`
	ContactName        string `json:"contact_name"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	Country            string `json:"country"`
	Address            string `json:"address"`
	TaxID              string `json:"tax_id"`
	RegistrationNumber string `json:"registration_number"`
	// Verification is none, pending (a link was emailed), verified or
	// info_requested (staff asked the customer for more information).
	Verification string     `json:"verification"`
	VerifiedAt   *time.Time `json:"verified_at"`
	// VerificationComment is what staff asked for, or noted on verifying.
	VerificationComment string    `json:"verification_comment"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Payer verification states.
const (
	PayerUnverified    = "none"
	PayerPending       = "pending"
	PayerVerified      = "verified"
	PayerInfoRequested = "info_requested"
)

// PayerVerificationTTL is how long a payer_verification link works.
const PayerVerificationTTL = 72 * time.Hour

// PayerVerify is staff's decision on a payer: verified, or more information
// requested (comment says what; it goes to every user of the customer).
type PayerVerify struct {
	Verified    bool   `json:"verified"`
	RequestInfo bool   `json:"request_info"`
	Comment     string `json:"comment"`
}

// Validate reports every invalid field of v.
func (v *PayerVerify) Validate() error {
	var val Validator
	val.Check(v.Verified != v.RequestInfo, "verified", "set exactly one of verified and request_info to true")
	if v.RequestInfo {
		val.Text("comment", v.Comment, 2000)
	} else {
		val.OptionalText("comment", v.Comment, 2000)
	}
	return val.Err()
}

// PayerInput creates a payer or replaces its details.
type PayerInput struct {
	Type               string `json:"type"`
	LegalName          string `json:"legal_name"`
	ContactName        string `json:"contact_name"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	Country            string `json:"country"`
	Address            string `json:"address"`
	TaxID              string `json:"tax_id"`
	RegistrationNumber string `json:"registration_number"`
}

// ChangesIdentity reports whether p changes who payer old is: its type, legal
// name, country, address, tax ID or registration number (not the contact
// details). A verification was of those; a change of them ends it.
func (p PayerInput) ChangesIdentity(old Payer) bool {
	return p.Type != old.Type || p.LegalName != old.LegalName || p.Country != old.Country || p.Address != old.Address ||
		p.TaxID != old.TaxID || p.RegistrationNumber != old.RegistrationNumber
}

// Validate reports every invalid field of p.
func (p *PayerInput) Validate() error {
	var v Validator
	v.OneOf("type", p.Type, AccountIndividual, AccountCompany, AccountSoleProprietor)
	v.Text("legal_name", p.LegalName, 300)
	v.OptionalText("contact_name", p.ContactName, 200)
	if p.Email != "" {
		v.Email("email", p.Email)
	}
	if p.Phone != "" {
		v.Phone("phone", p.Phone)
	}
	v.Country("country", p.Country)
	v.OptionalText("address", p.Address, 500)
	v.OptionalText("tax_id", p.TaxID, 100)
	v.OptionalText("registration_number", p.RegistrationNumber, 100)
	if p.Type != AccountIndividual {
		v.Check(p.TaxID != "", "tax_id", "is required for a company or sole proprietor")
	}
	return v.Err()
}
