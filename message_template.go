package billing

import "time"

// MessageTemplate is the text of one event's message on one channel in one
// language: an email (subject, text body, optional HTML body, sender name,
// reply-to) or an SMS (Body only). English defaults ship with the binary
// (notices/templates); staff's templates are stored and win over them.
type MessageTemplate struct {
	Event      string `json:"event"`
	Channel    string `json:"channel"`
	Language   string `json:"language"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	HTMLBody   string `json:"html_body"`
	SenderName string `json:"sender_name"`
	ReplyTo    string `json:"reply_to"`
	// Custom: staff's template; false: the built-in default.
	Custom bool `json:"custom"`
}

// Validate reports every invalid field of t, apart from its variables (the
// notices package checks them against the event's).
func (t *MessageTemplate) Validate() error {
	var v Validator
	v.OneOf("channel", t.Channel, ChannelEmail, ChannelSMS)
	v.LanguageTag("language", t.Language) // the form the language rule looks for
	if t.Channel == ChannelSMS {
		// An empty SMS text turns SMS off for the event in that language.
		v.LongText("body", t.Body, 1600)
		v.Check(t.Subject == "" && t.HTMLBody == "" && t.SenderName == "" && t.ReplyTo == "", "channel",
			"an SMS has only a body: no subject, html_body, sender_name or reply_to")
		return v.Err()
	}
	v.Text("subject", t.Subject, 300)
	v.LongText("body", t.Body, 20000)
	v.Check(t.Body != "", "body", "is required")
	v.LongText("html_body", t.HTMLBody, 100000)
	v.OptionalText("sender_name", t.SenderName, 100)
	if t.ReplyTo != "" {
		v.Email("reply_to", t.ReplyTo)
	}
	return v.Err()
}

// NotificationFilter selects entries of the notification log; nil and ""
// fields match everything.
type NotificationFilter struct {
	CustomerID *int64
	// StaffID keeps the staff notices of one staff member.
	StaffID *int64
	// Departments, when not nil, keeps the notices about tickets and tasks
	// to those of these departments (staff who are not admins see only
	// their departments'); the other notices are kept.
	Departments    []int64
	SubscriptionID *int64
	Event          string
	Status         string
	Channel        string
	Since, Until   *time.Time
	PageRequest
}
