package notices

import (
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/zoneinfo"
)

// SubscriptionVariables are what the texts of a subscription's events (the
// service milestones and the product's payment states) may use. The first
// seven are seed 002's.
var SubscriptionVariables = []string{"[LOGIN]", "[USER_NAME]", "[USER_LASTNAME]", "[ACCOUNT_STATE]", "[DATE_OF_PAYMENT]",
	"[PAYMENT_NAME]", "[PAYMENT_AMOUNT]", "[SERVICE_ID]", "[PAID_UNTIL]", "[DELETE_DATE]", "[DAYS]", "[SUSPEND_REASON]"}

// Samples are the values a preview without a customer shows, one for every
// variable of every event.
var Samples = map[string]string{
	"[LOGIN]": "ann", "[USER_NAME]": "Ann", "[USER_LASTNAME]": "Example", "[ACCOUNT_STATE]": "42.00 EUR",
	"[DATE_OF_PAYMENT]": "2026-12-01 10:00 CET", "[PAYMENT_NAME]": "VPS S", "[PAYMENT_AMOUNT]": "12.99 EUR",
	"[SERVICE_ID]": "7", "[PAID_UNTIL]": "2026-12-01 10:00 CET", "[DELETE_DATE]": "2026-12-15 10:00 CET", "[DAYS]": "5",
	"[SUSPEND_REASON]": "not paid", "[CUSTOMER_NAME]": "Ann Example", "[SET_PASSWORD_URL]": "https://billing.example.com/set-password?token=sample",
	"[LINK_EXPIRES]": "2026-12-02 10:00 CET", "[ACTIVATION_URL]": "https://billing.example.com/activate?token=sample",
	"[VERIFICATION_URL]": "https://billing.example.com/verify?token=sample", "[PAYER_NAME]": "Example GmbH",
	"[REQUESTED_INFO]": "a copy of the company's registration", "[REASON]": "inactive for 365 days",
	"[MESSAGE_SUBJECT]": "Planned maintenance", "[MESSAGE_TEXT]": "On Sunday our network is serviced from 02:00 to 03:00.",
	"[CATEGORY]": "maintenance", "[AMOUNT]": "50.00 EUR", "[CURRENCY]": "EUR", "[METHOD]": "wire transfer",
	"[DATE]": "2026-12-01 10:00 CET", "[BALANCE]": "62.50 EUR", "[ORDERS]": "- VPS S (#7): 12.99 EUR\n- VPS M (#8): 24.99 EUR",
	"[ORDERS_TOTAL]": "37.98 EUR", "[INVOICE_NUMBER]": "INV-2026-000042", "[CREDIT_NOTE_NUMBER]": "CN-2026-000007",
	"[DAYS_LEFT]": "5", "[DAILY_COST]": "1.50 EUR",
	"[UPDATES_UNTIL]": "2027-06-01 10:00 CEST",
	"[PARAMETERS]":    "- Domain name (domain)\n- OS template (os)",
	"[STAFF_NAME]":    "John Smith", "[AUTHOR]": "Gary Jones", "[TICKET_ID]": "12", "[TICKET_SUBJECT]": "The VPS does not boot",
	"[DEPARTMENT]": "Technical support", "[TICKET_URL]": "https://billing.example.com/tickets/12", "[TICKET_STATUS]": "open",
	"[POST_KIND]": "answer", "[TASK_ID]": "3", "[TASK_TITLE]": "Replace the disk of node 4",
	"[TASK_DESCRIPTION]": "The RAID reports a failing disk.", "[TASK_DUE]": "2026-12-01 10:00 CET",
	"[SERVICE_NAME]": "Cloud PBX", "[PERIOD]": "2026-11-01 10:00 CET to 2026-12-01 10:00 CET", "[RESOURCE]": "minutes",
	"[USED]": "900", "[INCLUDED]": "1000", "[UNIT]": "min", "[PERCENT]": "90",
	"[OVERAGE]":      "- minutes: 200 min beyond 1000 min, 200 x 0.02 EUR = 4.00 EUR",
	"[MAIL_SUBJECT]": "My VPS does not boot", "[EMAIL]": "ann@example.com", "[TICKETS]": "#12, #13",
	"[REGISTER_URL]": "https://billing.example.com/register?email=ann%40example.com",
}

// Render replaces the variables in text with their values; unknown ones stay.
// A value is inserted as it is, never expanded again.
func Render(text string, vars map[string]string) string {
	return replace(text, vars, func(s string) string { return s })
}

// RenderHTML is Render for an HTML body: every value is HTML-escaped, so a
// name such as "<b>Ann</b>" shows as written and can't inject markup.
func RenderHTML(text string, vars map[string]string) string {
	return replace(text, vars, html.EscapeString)
}

func replace(text string, vars map[string]string, escape func(string) string) string {
	pairs := make([]string, 0, 2*len(vars))
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		pairs = append(pairs, name, escape(vars[name]))
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// variableRE is what a [VARIABLE] looks like: capitals, digits and _.
var variableRE = regexp.MustCompile(`\[[A-Z][A-Z0-9_]*\]`)

// miswrittenRE finds what may be a variable in another case or with spaces
// ([user_name], [User Name]): never replaced, a customer would receive it.
var miswrittenRE = regexp.MustCompile(`\[[A-Za-z][A-Za-z0-9_ ]*\]`)

// meant returns the variable of e that m miswrites, if any.
func meant(e Event, m string) (string, bool) {
	v := strings.ToUpper(strings.ReplaceAll(m, " ", "_"))
	return v, v != m && e.Offers(v)
}

// CheckVariables refuses a template whose texts use a variable its event
// does not offer, naming the variable and the field ("subject", "body",
// "html_body"), so that a typo such as [USER_NAM] is caught when the
// template is saved rather than when a customer receives it; so is one of
// its variables in another case or with spaces ([user_name]).
func CheckVariables(e Event, t billing.MessageTemplate) error {
	var v billing.Validator
	var unknown []string
	for _, f := range []struct{ name, text string }{{"subject", t.Subject}, {"body", t.Body}, {"html_body", t.HTMLBody}} {
		for _, m := range variableRE.FindAllString(f.text, -1) {
			if !e.Offers(m) {
				v.Check(false, f.name, fmt.Sprintf("uses %s, which the event %s does not offer; it offers %s",
					m, e.Name, strings.Join(e.Variables, " ")))
				if !slices.Contains(unknown, m) {
					unknown = append(unknown, m)
				}
			}
		}
		for _, m := range miswrittenRE.FindAllString(f.text, -1) {
			if want, ok := meant(e, m); ok {
				v.Check(false, f.name, fmt.Sprintf("uses %s, which is not a variable: write it %s", m, want))
				if !slices.Contains(unknown, m) {
					unknown = append(unknown, m)
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		be := err.(*billing.Error)
		be.Message = fmt.Sprintf("the template uses %s, which the event %s does not offer", strings.Join(unknown, ", "), e.Name)
		return be
	}
	return nil
}

// UserValues are the variables every event offers about its recipient.
func UserValues(u billing.User) map[string]string {
	return map[string]string{"[LOGIN]": u.Login, "[USER_NAME]": u.FirstName, "[USER_LASTNAME]": u.LastName}
}

// Facts are what the variables of a subscription's notice to one recipient are made of.
type Facts struct {
	User           billing.User
	Balance        billing.Money // the customer's, in the plan's currency
	Price          billing.Money // the period's
	ProductName    string
	SubscriptionID int64
	PaidUntil      time.Time
	DeleteAt       time.Time
	Days           int // days before the date the notice is about
	SuspendReason  string
	TimeZone       string // the customer's, that dates are shown in
	// UpdatesUntil is a license's updates-until date (license_updates_expiring).
	UpdatesUntil time.Time
	// Parameters lists missing order parameters (order_parameters_needed).
	Parameters string
}

// Values returns the value of every subscription variable for f.
func (f Facts) Values() map[string]string {
	loc := zoneinfo.Load(f.TimeZone)
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	reason := f.SuspendReason
	if reason == "" {
		reason = "-"
	}
	return map[string]string{
		"[LOGIN]":           f.User.Login,
		"[USER_NAME]":       f.User.FirstName,
		"[USER_LASTNAME]":   f.User.LastName,
		"[ACCOUNT_STATE]":   f.Balance.String(),
		"[DATE_OF_PAYMENT]": date(f.PaidUntil),
		"[PAYMENT_NAME]":    f.ProductName,
		"[PAYMENT_AMOUNT]":  f.Price.String(),
		"[SERVICE_ID]":      strconv.FormatInt(f.SubscriptionID, 10),
		"[PAID_UNTIL]":      date(f.PaidUntil),
		"[DELETE_DATE]":     date(f.DeleteAt),
		"[DAYS]":            strconv.Itoa(f.Days),
		"[SUSPEND_REASON]":  reason,
		"[UPDATES_UNTIL]":   date(f.UpdatesUntil),
		"[PARAMETERS]":      f.Parameters,
	}
}
