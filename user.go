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
