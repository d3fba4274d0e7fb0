package billing

import "time"

// Purposes of the one-time links the account notices carry.
const (
	// TokenSetPassword: the registration notice's link to set a password.
	TokenSetPassword = "set_password"
	// TokenActivateEmail: the email activation notice's link to confirm an address.
	TokenActivateEmail = "activate_email"
	// TokenVerifyAccount: the account verification notice's link.
	TokenVerifyAccount = "verify_account"
)

// How long each link works.
const (
	SetPasswordTTL  = 72 * time.Hour
	ActivationTTL   = 24 * time.Hour
	VerificationTTL = 7 * 24 * time.Hour
)

// SelfRegistration is what a client fills in to register themselves
// (POST /auth/register): a customer's profile and its main user, without the
// fields only staff set (note, attitude, post-paid, group, project, a
// verified phone, a verified email). The password is the client's own.
type SelfRegistration struct {
	AccountType   string          `json:"account_type"`
	Name          string          `json:"name"`
	ContactPerson string          `json:"contact_person"`
	Country       string          `json:"country"`
	Language      string          `json:"language"`
	TimeZone      string          `json:"time_zone"`
	Company       *CompanyDetails `json:"company"`
	User          SelfRegUser     `json:"user"`
}

// SelfRegUser is the main user of a SelfRegistration.
type SelfRegUser struct {
	Login     string `json:"login"`
	Email     string `json:"email"`
	Password  string `json:"password"`
	Phone     string `json:"phone"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
}

// CustomerCreate returns r as a registration from address ip, with the
// defaults filled in and validated; the password is required.
func (r SelfRegistration) CustomerCreate(ip string) (CustomerCreate, error) {
	in := CustomerCreate{AccountType: r.AccountType, Name: r.Name, ContactPerson: r.ContactPerson, Country: r.Country,
		Language: r.Language, TimeZone: r.TimeZone, RegistrationIP: ip, Company: r.Company,
		User: UserCreate{Login: r.User.Login, Email: r.User.Email, Password: r.User.Password, Phone: r.User.Phone,
			FirstName: r.User.FirstName, LastName: r.User.LastName, Language: r.User.Language}}
	in.Defaults()
	var v Validator
	in.validateProfile(&v)
	in.User.validate(&v, "user.")
	v.Check(r.User.Password != "", "user.password", "is required: 10 to 200 characters")
	return in, v.Err()
}
