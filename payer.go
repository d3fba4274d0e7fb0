package billing

import "time"

// Payer is the legal party that pays a customer's invoices.
type Payer struct {
	ID                 int64     `json:"id"`
	CustomerID         int64     `json:"customer_id"`
	Type               string    `json:"type"`
	LegalName          string    `json:"legal_name"`
	ContactName        string    `json:"contact_name"`
	Email              string    `json:"email"`
	Phone              string    `json:"phone"`
	Country            string    `json:"country"`
	Address            string    `json:"address"`
	TaxID              string    `json:"tax_id"`
	RegistrationNumber string    `json:"registration_number"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
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
