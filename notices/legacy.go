package notices

import (
	"slices"

	"github.com/tempobill/billing"
)

// The /notice-templates routes came before message templates: one text per
// service milestone, English only, with an optional SMS text. They are kept
// as a view of the English email and SMS templates of the service events.

// LegacyTemplate returns milestone's service-notice text as those routes
// show it: the English email and SMS templates in use. It is a not-found
// error naming the service notices for anything else.
func (c Catalog) LegacyTemplate(milestone string) (billing.NoticeTemplate, error) {
	if !slices.Contains(billing.ServiceMilestones, milestone) {
		return billing.NoticeTemplate{}, billing.Errorf(billing.ENOTFOUND, "no service notice %q; the notices are %v",
			milestone, slices.Sorted(slices.Values(billing.ServiceMilestones)))
	}
	email, _ := c.Effective(TemplateKey{milestone, billing.ChannelEmail, DefaultLanguage})
	sms, _ := c.Effective(TemplateKey{milestone, billing.ChannelSMS, DefaultLanguage})
	return billing.NoticeTemplate{Milestone: milestone, Subject: email.Subject, Body: email.Body, SMSBody: sms.Body,
		Custom: email.Custom || sms.Custom}, nil
}

// LegacyList returns every service notice's text, in milestone order.
func (c Catalog) LegacyList() []billing.NoticeTemplate {
	var out []billing.NoticeTemplate
	for _, m := range slices.Sorted(slices.Values(billing.ServiceMilestones)) {
		t, _ := c.LegacyTemplate(m)
		out = append(out, t)
	}
	return out
}

// LegacyOverride returns the English email and SMS templates that replace
// milestone's text with t (an empty SMS text turns SMS off, as it always
// did), or why it can't be: no such service notice, invalid fields, an
// unknown variable.
func LegacyOverride(milestone string, t billing.NoticeTemplate) ([]billing.MessageTemplate, error) {
	var c Catalog
	if _, err := c.LegacyTemplate(milestone); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	e, _ := Lookup(milestone)
	email := billing.MessageTemplate{Event: milestone, Channel: billing.ChannelEmail, Language: DefaultLanguage,
		Subject: t.Subject, Body: t.Body}
	sms := billing.MessageTemplate{Event: milestone, Channel: billing.ChannelSMS, Language: DefaultLanguage, Body: t.SMSBody}
	if err := CheckVariables(e, billing.MessageTemplate{Subject: t.Subject, Body: t.Body, HTMLBody: t.SMSBody}); err != nil {
		if be, ok := err.(*billing.Error); ok && be.Fields["html_body"] != "" {
			be.Fields["sms_body"] = be.Fields["html_body"]
			delete(be.Fields, "html_body")
		}
		return nil, err
	}
	return []billing.MessageTemplate{email, sms}, nil
}
