package notices

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestDefaults: every event that takes templates ships an English email
// default, in a file, valid and using only its event's variables; the SMS
// texts sent before templates existed are kept as English SMS defaults.
func TestDefaults(t *testing.T) {
	t.Parallel()
	for _, e := range Events() {
		email, ok := Default(TemplateKey{e.Name, billing.ChannelEmail, "en"})
		if e.ProductTexts {
			require.False(t, ok, "%s: a payment state's texts are the product's", e.Name)
			continue
		}
		require.True(t, ok, "%s has an English email default", e.Name)
		require.NotEmpty(t, email.Subject, e.Name)
		require.NoError(t, email.Validate(), e.Name)
		require.NoError(t, CheckVariables(e, email), e.Name)
	}
	for _, tpl := range Defaults() {
		e, err := Lookup(tpl.Event)
		require.NoError(t, err, "%s: a template file of an unknown event", tpl.Event)
		require.True(t, e.Sends(tpl.Channel), "%s %s", tpl.Event, tpl.Channel)
		require.NoError(t, CheckTemplate(tpl), "%s %s", tpl.Event, tpl.Channel)
	}
	var sms []string
	for _, tpl := range Defaults() {
		if tpl.Channel == billing.ChannelSMS {
			sms = append(sms, tpl.Event)
		}
	}
	require.ElementsMatch(t, []string{billing.MilestoneActivated, billing.MilestoneLowMoney, billing.MilestoneExpiring,
		billing.MilestoneSuspended, billing.MilestoneDeleteSoon, EventActivatedVPS, EventActivatedSharedHosting,
		EventActivatedLicense, EventResourceThreshold, EventOverageCharged}, sms,
		"the SMS texts of before, the activation's per product kind, which replace its SMS, and the usage events'")
	got, _ := Default(TemplateKey{billing.MilestoneCancelled, billing.ChannelEmail, "en"})
	require.Equal(t, billing.MessageTemplate{Event: "cancelled", Channel: "email", Language: "en",
		Subject: "[PAYMENT_NAME] was cancelled", Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) was cancelled.\n"}, got)
	msg, _ := Default(TemplateKey{EventMessage, billing.ChannelEmail, "en"})
	require.Contains(t, msg.HTMLBody, "[MESSAGE_TEXT]", "message.html is its HTML body")
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	got, err := parseDefaults(fstest.MapFS{
		"templates/de/renewed.email": {Data: []byte("Subject: Verlängert\nSender-Name: Shop\nReply-To: hilfe@example.com\n\nHallo\n")},
		"templates/de/renewed.html":  {Data: []byte("<p>Hallo</p>")},
		"templates/de/renewed.sms":   {Data: []byte("Verlängert\n")},
	})
	require.NoError(t, err)
	require.Equal(t, map[TemplateKey]billing.MessageTemplate{
		{"renewed", "email", "de"}: {Event: "renewed", Channel: "email", Language: "de", Subject: "Verlängert",
			SenderName: "Shop", ReplyTo: "hilfe@example.com", Body: "Hallo\n", HTMLBody: "<p>Hallo</p>"},
		{"renewed", "sms", "de"}: {Event: "renewed", Channel: "sms", Language: "de", Body: "Verlängert"},
	}, got)
	_, err = parseDefaults(fstest.MapFS{"templates/en/x.email": {Data: []byte("Subject: x\nFrom: y\n\nbody")}})
	require.ErrorContains(t, err, `unknown header "From"`)
	_, err = parseDefaults(fstest.MapFS{"templates/en/x.email": {Data: []byte("Subject: x")}})
	require.ErrorContains(t, err, "no empty line")
}

// TestCheckTemplate: a template using a variable its event does not offer
// is refused, naming the variable and the field.
func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	ok := billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: "de",
		Subject: "[PAYMENT_NAME] verlängert", Body: "Hallo [USER_NAME]", HTMLBody: "<p>[USER_NAME]</p>"}
	require.NoError(t, CheckTemplate(ok))

	typo := ok
	typo.Body = "Hallo [USER_NAM], [LOGIN]"
	err := CheckTemplate(typo)
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	require.ErrorContains(t, err, "[USER_NAM]")
	be := err.(*billing.Error)
	require.Contains(t, be.Fields["body"], "[USER_NAM]")
	require.NotContains(t, be.Fields, "subject")

	other := ok
	other.HTMLBody = "<p>[ACTIVATION_URL]</p>"
	err = CheckTemplate(other)
	require.ErrorContains(t, err, "[ACTIVATION_URL]", "another event's variable")
	require.Contains(t, err.(*billing.Error).Fields, "html_body")

	state := ok
	state.Event = billing.StateIncoming
	require.ErrorContains(t, CheckTemplate(state), "PUT /products/{id}")
	activation := ok
	activation.Event, activation.Channel, activation.Subject = EventEmailActivation, billing.ChannelSMS, ""
	require.ErrorContains(t, CheckTemplate(activation), "goes by email only")
	unknown := ok
	unknown.Event = "nope"
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(CheckTemplate(unknown)))
	lang := ok
	lang.Language = "not a language"
	require.Equal(t, billing.EINVALID, billing.ErrorCode(CheckTemplate(lang)))
}

func TestEvents(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range Events() {
		require.False(t, seen[e.Name], "%s twice", e.Name)
		seen[e.Name] = true
		require.Contains(t, []string{AudienceMainUser, AudienceAllUsers, AudienceDepartment, AudienceMailSender}, e.Audience)
		require.True(t, e.Sends(billing.ChannelEmail), e.Name)
		if e.Audience == AudienceDepartment {
			// Staff have no login or user name: their notices name them [STAFF_NAME].
			require.Contains(t, e.Variables, "[STAFF_NAME]", e.Name)
			require.Equal(t, emailOnly, e.Channels, "%s: staff are told by email only", e.Name)
		} else if e.Audience == AudienceMailSender {
			// An address has no user: its notices name it [EMAIL], never a login.
			require.Contains(t, e.Variables, "[EMAIL]", e.Name)
			require.NotContains(t, e.Variables, "[LOGIN]", e.Name)
			require.Equal(t, emailOnly, e.Channels, "%s: a mail is answered by email", e.Name)
		} else {
			require.Subset(t, e.Variables, []string{"[LOGIN]", "[USER_NAME]", "[USER_LASTNAME]"}, e.Name)
		}
		for _, v := range e.Variables {
			require.Contains(t, Samples, v, "%s: %s has a sample value for previews", e.Name, v)
		}
		require.Equal(t, e.Name == EventMessage, e.ListUnsubscribe, e.Name)
	}
	for _, m := range append(billing.ServiceMilestones, billing.PaymentStates...) {
		require.True(t, seen[m], m)
	}
	for _, name := range []string{EventRegistration, EventEmailActivation, EventAccountVerification, EventPayerVerification,
		EventClientVerificationInfo, EventAccountDeleted, EventAccountDeletionWarning, EventMessage,
		EventTicketFromEmail, EventIncidentRequired, EventEmailConfirmation, EventEmailConfirmed, EventEmailNotUnique} {
		require.True(t, seen[name], name)
	}
	reg, _ := Lookup(EventRegistration)
	require.Equal(t, AudienceMainUser, reg.Audience)
	_, err := Lookup("nope")
	require.ErrorContains(t, err, "registration", "the error lists the events")
}

// TestLegacy: the /notice-templates view of the English service templates.
func TestLegacy(t *testing.T) {
	t.Parallel()
	var none Catalog
	list := none.LegacyList()
	require.Len(t, list, len(billing.ServiceMilestones))
	for _, n := range list {
		require.False(t, n.Custom)
		require.NoError(t, n.Validate(), n.Milestone)
	}
	ts, err := LegacyOverride(billing.MilestoneActivated, billing.NoticeTemplate{Subject: "Ours", Body: "Text"})
	require.NoError(t, err)
	c := Catalog{Custom: map[TemplateKey]billing.MessageTemplate{Key(ts[0]): ts[0], Key(ts[1]): ts[1]}}
	got, err := c.LegacyTemplate(billing.MilestoneActivated)
	require.NoError(t, err)
	require.Equal(t, billing.NoticeTemplate{Milestone: "activated", Subject: "Ours", Body: "Text", Custom: true}, got,
		"a replacement without an SMS text turns the SMS off, as before")
	_, ok := c.Find(billing.MilestoneActivated, billing.ChannelSMS, []string{"en"})
	require.False(t, ok)

	_, err = LegacyOverride(billing.MilestoneActivated, billing.NoticeTemplate{Subject: "x", Body: "y", SMSBody: "[USER_NAM]"})
	require.ErrorContains(t, err, "[USER_NAM]")
	require.Contains(t, err.(*billing.Error).Fields, "sms_body")
	_, err = none.LegacyTemplate(billing.StateApproved)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))
}

// TestTemplateLanguageInItsUsualForm: a template saved as "DE", "de-de" or
// "pt_BR" would never be found for a recipient of "de" or "pt-BR" (the
// language rule looks for usual forms), so such a key is refused, as the
// setting default_language refuses it.
func TestTemplateLanguageInItsUsualForm(t *testing.T) {
	t.Parallel()
	for _, l := range []string{"DE", "de-de", "pt_BR", "und", "x-foo"} {
		tpl := billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: l,
			Subject: "x", Body: "y"}
		err := CheckTemplate(tpl)
		require.Equal(t, billing.EINVALID, billing.ErrorCode(err), l)
		require.Contains(t, err.(*billing.Error).Fields, "language", l)
	}
	for _, l := range []string{"de", "pt-BR", "zh-Hant"} {
		tpl := billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: l,
			Subject: "x", Body: "y"}
		require.NoError(t, CheckTemplate(tpl), l)
	}
}
