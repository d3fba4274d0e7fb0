package billing

import "time"

// User is a person who signs in on behalf of a customer. Every customer has
// exactly one main user, created at registration.
type User struct {
	ID            int64     `json:"id"`
	CustomerID    int64     `json:"customer_id"`
	Login         string    `json:"login"`
	Email         string    `json:"email"`
	Phone         string    `json:"phone"`
	FirstName     string    `json:"first_name"`
	LastName      string    `json:"last_name"`
	Language      string    `json:"language"`
	EmailVerified bool      `json:"email_verified"`
	Main          bool      `json:"main"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// UserCreate adds a user. An empty Password asks the system to generate one,
// which is returned once.
type UserCreate struct {
	Login         string `json:"login"`
	Email         string `json:"email"`
	Password      string `json:"password"`
	Phone         string `json:"phone"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Language      string `json:"language"`
	EmailVerified bool   `json:"email_verified"`
}

// Password length bounds. Argon2id takes any length; the upper bound stops
// megabyte passwords from costing CPU.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 200
)

// Validate reports every invalid field of u.
func (u *UserCreate) Validate() error {
	if u.Language == "" {
		u.Language = "en"
	}
	var v Validator
	u.validate(&v, "")
	return v.Err()
}

func (u *UserCreate) validate(v *Validator, prefix string) {
	v.Check(loginRE.MatchString(u.Login), prefix+"login", "must be 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit")
	v.Email(prefix+"email", u.Email)
	if u.Password != "" {
		n := len([]rune(u.Password))
		v.Check(n >= MinPasswordLength && n <= MaxPasswordLength, prefix+"password", "must be 10 to 200 characters, or left out to generate one")
	}
	if u.Phone != "" {
		v.Phone(prefix+"phone", u.Phone)
	}
	v.OptionalText(prefix+"first_name", u.FirstName, 100)
	v.OptionalText(prefix+"last_name", u.LastName, 100)
	v.Language(prefix+"language", u.Language)
}

// UserUpdate changes the fields that are set.
type UserUpdate struct {
	Email         *string `json:"email"`
	Password      *string `json:"password"`
	Phone         *string `json:"phone"`
	FirstName     *string `json:"first_name"`
	LastName      *string `json:"last_name"`
	Language      *string `json:"language"`
	EmailVerified *bool   `json:"email_verified"`
	Main          *bool   `json:"main"`
}

// Apply returns u with the update applied, validated as a whole. The new
// password, if any, is validated here and hashed by the caller.
func (up *UserUpdate) Apply(u User) (User, error) {
	if up.Email != nil && *up.Email != u.Email {
		u.EmailVerified = false
	}
	set(&u.Email, up.Email)
	set(&u.Phone, up.Phone)
	set(&u.FirstName, up.FirstName)
	set(&u.LastName, up.LastName)
	set(&u.Language, up.Language)
	set(&u.EmailVerified, up.EmailVerified)
	check := UserCreate{Login: u.Login, Email: u.Email, Phone: u.Phone, FirstName: u.FirstName, LastName: u.LastName, Language: u.Language}
	if up.Password != nil {
		check.Password = *up.Password
	}
	var v Validator
	check.validate(&v, "")
	if up.Password != nil {
		v.Check(*up.Password != "", "password", "must be 10 to 200 characters")
	}
	if up.Main != nil {
		v.Check(*up.Main, "main", "can only be set to true; making another user main unsets this one")
	}
	return u, v.Err()
}

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
