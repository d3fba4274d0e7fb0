// Package notices is where a message is chosen and rendered. It holds the
// events the system tells people about (events.go: audience, channels,
// variables), their built-in English templates (files in templates/,
// embedded in the binary), the language rule and the [VARIABLE] rendering.
// Given an event, the product, staff's templates and the recipient, it says
// what to send by email and by SMS, or that nothing is sent.
//
// It does not send: activities.SendNotices (a subscription's milestones),
// activities.SendEvent (any event, for one customer, from an activity) and
// activities.QueueEvent (any event, queued from outside a workflow, sent by
// the redelivery schedule) claim, send and record every message in the
// notification log (the notices table), at most once per key.
package notices

import (
	"github.com/tempobill/billing"
)

// Request is the notice a milestone asks for.
type Request struct {
	Milestone string
	// ProductState: the notice is one of the product's payment states (seed
	// 002), sent as the product configures; otherwise a service notice.
	ProductState bool
}

// Message is a notice rendered for one channel and recipient.
type Message struct {
	Channel  string // billing.ChannelEmail or billing.ChannelSMS
	To       string // an email address or a phone number
	Subject  string // email only
	Body     string
	HTMLBody string // email only, optional
	// Language is the language of the template used.
	Language string
	// Template says where the text came from: "product:<state>",
	// "custom:<event>" (staff's template) or "default:<event>" (built in).
	Template            string
	SenderName, ReplyTo string
}

// Sends reports whether req's notice can go out at all: a payment state the
// product sends by email or SMS, or an event with templates.
func (c Catalog) Sends(req Request, p billing.Product) bool {
	if req.ProductState {
		s := p.PaymentStates[req.Milestone]
		return s.Email || s.SMS
	}
	e, err := Lookup(req.Milestone)
	return err == nil && !e.ProductTexts
}

// Messages renders req's notice for the recipient f.User, whose templates
// are looked for in langs (Languages): an email, then an SMS if the user has
// a phone and there is an SMS text. A payment state is sent as the product
// configures it, with its texts: they take precedence over any template.
func (c Catalog) Messages(req Request, p billing.Product, f Facts, langs []string) []Message {
	vars := f.Values()
	if !req.ProductState {
		if !c.Sends(req, p) {
			return nil
		}
		return c.Render(req.Milestone, f.User, langs, vars)
	}
	s := p.PaymentStates[req.Milestone]
	lang := ""
	if len(langs) > 0 {
		lang = langs[0]
	}
	var out []Message
	if s.Email {
		out = append(out, Message{Channel: billing.ChannelEmail, To: f.User.Email, Subject: Render(s.Subject, vars),
			Body: Render(s.Body, vars), Language: lang, Template: "product:" + req.Milestone, SenderName: s.SenderName, ReplyTo: s.ReplyTo})
	}
	if s.SMS && f.User.Phone != "" {
		out = append(out, Message{Channel: billing.ChannelSMS, To: f.User.Phone, Body: Render(s.SMSBody, vars),
			Language: lang, Template: "product:" + req.Milestone})
	}
	return out
}

// Render renders event's templates for u with vars: by email if the event
// goes by email and has a template, by SMS if it goes by SMS, u has a phone
// and there is an SMS text in the first of langs that has one.
func (c Catalog) Render(event string, u billing.User, langs []string, vars map[string]string) []Message {
	e, err := Lookup(event)
	if err != nil {
		return nil
	}
	var out []Message
	for _, ch := range e.Channels {
		to := u.Email
		if ch == billing.ChannelSMS {
			to = u.Phone
		}
		if to == "" {
			continue
		}
		t, ok := c.Find(event, ch, langs)
		if !ok {
			continue
		}
		out = append(out, RenderTemplate(t, to, vars))
	}
	return out
}

// RenderTemplate renders t for the recipient to with vars.
func RenderTemplate(t billing.MessageTemplate, to string, vars map[string]string) Message {
	name := "default:" + t.Event
	if t.Custom {
		name = "custom:" + t.Event
	}
	return Message{Channel: t.Channel, To: to, Subject: Render(t.Subject, vars), Body: Render(t.Body, vars),
		HTMLBody: RenderHTML(t.HTMLBody, vars), Language: t.Language, Template: name, SenderName: t.SenderName, ReplyTo: t.ReplyTo}
}
