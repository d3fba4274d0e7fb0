package billing

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/tempobill/billing/zoneinfo"
)

// Validator collects field errors so that one response lists every problem.
type Validator struct {
	fields map[string]string
}

// Check records msg for field unless ok holds. The first problem of a field wins.
func (v *Validator) Check(ok bool, field, msg string) {
	if ok {
		return
	}
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = msg
	}
}

// Err returns an EINVALID *Error listing the fields, or nil when all checks held.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "some fields are invalid; see fields", Fields: v.fields}
}

// Text checks a required single-line string: trimmed, 1..max characters, printable.
func (v *Validator) Text(field, s string, max int) {
	v.Check(strings.TrimSpace(s) != "", field, "is required")
	v.OptionalText(field, s, max)
}

// OptionalText checks a string that may be empty: at most max characters, valid
// UTF-8, no control characters, no bidirectional controls.
func (v *Validator) OptionalText(field, s string, max int) {
	v.Check(utf8.ValidString(s), field, "must be valid UTF-8")
	v.Check(utf8.RuneCountInString(s) <= max, field, fmt.Sprintf("must be at most %d characters", max))
	v.Check(!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) }), field, "must not contain control characters")
	v.noBidi(field, s)
}

// LongText checks free text such as notes and message bodies: newlines and tabs allowed.
func (v *Validator) LongText(field, s string, max int) {
	v.Check(utf8.ValidString(s), field, "must be valid UTF-8")
	v.Check(utf8.RuneCountInString(s) <= max, field, fmt.Sprintf("must be at most %d characters", max))
	v.Check(!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }), field, "must not contain control characters")
	v.noBidi(field, s)
}

// noBidi refuses the bidirectional controls (U+061C, U+200E, U+200F,
// U+202A to U+202E, U+2066 to U+2069). Text goes into mails and staff
// screens, where U+202E would show "Ann\u202Efdp.exe" as "Annexe.pdf".
func (v *Validator) noBidi(field, s string) {
	v.Check(!strings.ContainsFunc(s, isBidiControl), field, "must not contain bidirectional control characters such as U+202E")
}

func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// Email checks a bare address such as ann@example.com.
func (v *Validator) Email(field, s string) {
	v.Check(ValidEmail(s), field, "must be an email address such as ann@example.com")
}

// Phone checks an international number in E.164 form such as +4915112345678.
func (v *Validator) Phone(field, s string) {
	v.Check(phoneRE.MatchString(s), field, "must be an international number in E.164 form such as +4915112345678")
}

// Country checks an ISO 3166-1 alpha-2 country code such as DE.
func (v *Validator) Country(field, s string) {
	v.Check(ValidCountry(s), field, "must be an ISO 3166-1 alpha-2 country code such as DE or US")
}

// Language checks a BCP 47 language tag such as en or pt-BR.
func (v *Validator) Language(field, s string) {
	_, err := language.Parse(s)
	v.Check(err == nil && len(s) <= 35, field, "must be a language tag such as en or pt-BR")
}

// LanguageTag checks a language tag in its usual form, such as en, de or
// pt-BR: the form the language rule of notices looks for (not EN, de-de or
// pt_BR), naming a language (not und, xx or a private use tag).
func (v *Validator) LanguageTag(field, s string) {
	tag, err := language.Parse(s)
	_, sure := tag.Base() // und and private use tags name no language
	v.Check(err == nil && tag.String() == s && sure == language.Exact, field,
		"must be a known language tag in its usual form, such as en, de or pt-BR")
}

// TimeZone checks an IANA time zone name such as Europe/Berlin.
func (v *Validator) TimeZone(field, s string) {
	v.Check(zoneinfo.Valid(s), field, "must be an IANA time zone such as Europe/Berlin or UTC")
}

// OneOf checks that s is one of the allowed values.
func (v *Validator) OneOf(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Check(false, field, "must be one of: "+strings.Join(allowed, ", "))
}

var (
	phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	loginRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{2,63}$`)
)

// ValidEmail reports whether s is a bare email address with a domain that has
// a dot, and no bidirectional controls (net/mail takes them in the local part).
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") || strings.ContainsFunc(s, isBidiControl) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// ValidCountry reports whether s is an ISO 3166-1 alpha-2 country code.
func ValidCountry(s string) bool {
	if len(s) != 2 || strings.ToUpper(s) != s {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && r.IsCountry()
}
