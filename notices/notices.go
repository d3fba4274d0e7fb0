// Package notices is where a notice is chosen and rendered: given what a
// milestone asks for, the product, staff's replacements of the service texts
// and the recipient's facts, it says what to send by email and by SMS, or
// that nothing is sent. Activities claim, send and record what it returns;
// the API lists and replaces the service texts through it.
package notices

import "github.com/tempobill/billing"

// Request is the notice a milestone asks for.
type Request struct {
	Milestone string
	// ProductState: the notice is one of the product's payment states (seed
	// 002), sent as the product configures; otherwise a service notice.
	ProductState bool
}

// Template is the text of one notice and the channels it goes by, whichever
// its source.
type Template struct {
	// Name says where the text came from ("product:<state>",
	// "custom:<milestone>" or "default:<milestone>"); every notice sent
	// records it.
	Name                   string
	Email, SMS             bool
	Subject, Body, SMSBody string
	SenderName, ReplyTo    string
}

// Pick chooses the template of req: the product's payment-state settings,
// or the service notice's text (staff's replacement in overrides, else the
// built-in one). It reports false when nothing is sent: a payment state the
// product sends by neither channel, or a milestone with no service notice.
func Pick(req Request, p billing.Product, overrides map[string]billing.NoticeTemplate) (Template, bool) {
	if req.ProductState {
		s := p.PaymentStates[req.Milestone]
		return Template{Name: "product:" + req.Milestone, Email: s.Email, SMS: s.SMS, Subject: s.Subject,
			Body: s.Body, SMSBody: s.SMSBody, SenderName: s.SenderName, ReplyTo: s.ReplyTo}, s.Email || s.SMS
	}
	t, custom, ok := service(req.Milestone, overrides)
	name := "default:" + req.Milestone
	if custom {
		name = "custom:" + req.Milestone
	}
	// A service notice goes by email, and by SMS when its text has one.
	return Template{Name: name, Email: true, SMS: t.SMSBody != "", Subject: t.Subject, Body: t.Body, SMSBody: t.SMSBody}, ok
}

// Message is a notice rendered for one channel and recipient.
type Message struct {
	Channel string // billing.ChannelEmail or billing.ChannelSMS
	To      string // an email address or a phone number
	Subject string // email only
	Body    string
}

// Messages renders t for the recipient f.User: an email if t goes by email,
// then an SMS if it goes by SMS and the user has a phone.
func (t Template) Messages(f Facts) []Message {
	vars := f.Values()
	var out []Message
	if t.Email {
		out = append(out, Message{Channel: billing.ChannelEmail, To: f.User.Email,
			Subject: Render(t.Subject, vars), Body: Render(t.Body, vars)})
	}
	if t.SMS && f.User.Phone != "" {
		out = append(out, Message{Channel: billing.ChannelSMS, To: f.User.Phone, Body: Render(t.SMSBody, vars)})
	}
	return out
}
