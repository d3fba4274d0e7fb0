package notices

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestMessagesProductStates(t *testing.T) {
	t.Parallel()
	product := billing.Product{PaymentStates: map[string]billing.NoticeSetting{
		billing.StateApproved: {Email: true, SMS: true, Subject: "Paid [PAYMENT_NAME]", Body: "Thanks", SMSBody: "Paid",
			SenderName: "Shop", ReplyTo: "help@example.com"},
		billing.StateIncoming:           {SMS: true, SMSBody: "Due soon"},
		billing.StateNonSufficientFunds: {Subject: "Short", Body: "Not sent"}, // neither channel
	}}
	ann := billing.User{FirstName: "Ann", Email: "ann@example.com", Phone: "+4915112345678", Language: "de"}
	// Staff's German templates for a payment state can't exist (CheckTemplate
	// refuses them); even if one were stored, the product's text is sent.
	cat := Catalog{Custom: map[TemplateKey]billing.MessageTemplate{
		{billing.StateApproved, billing.ChannelEmail, "de"}: {Event: billing.StateApproved, Channel: billing.ChannelEmail,
			Language: "de", Subject: "Bezahlt", Body: "Danke"}}}
	f := Facts{User: ann, ProductName: "VPS"}
	langs := Languages("de", "", "")
	tests := []struct {
		name  string
		state string
		want  []Message
	}{
		{"the product's texts, not a template, by email and SMS", billing.StateApproved, []Message{
			{Channel: billing.ChannelEmail, To: ann.Email, Subject: "Paid VPS", Body: "Thanks", Language: "de",
				Template: "product:approved", SenderName: "Shop", ReplyTo: "help@example.com"},
			{Channel: billing.ChannelSMS, To: ann.Phone, Body: "Paid", Language: "de", Template: "product:approved"}}},
		{"SMS only", billing.StateIncoming, []Message{{Channel: billing.ChannelSMS, To: ann.Phone, Body: "Due soon",
			Language: "de", Template: "product:incoming"}}},
		{"neither channel: nothing", billing.StateNonSufficientFunds, nil},
		{"a state the product leaves out: nothing, never a default", billing.StateDeclined, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := Request{Milestone: tt.state, ProductState: true}
			require.Equal(t, tt.want, cat.Messages(req, product, f, langs))
			require.Equal(t, tt.want != nil, cat.Sends(req, product))
		})
	}
}

func TestLanguageFallback(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"pt-BR", "pt", "de", "en"}, Languages("pt-BR", "de", "en"))
	require.Equal(t, []string{"fr", "en"}, Languages("", "", "fr"), "nothing but the default: then English")
	require.Equal(t, []string{"en"}, Languages("en", "en", ""))

	tpl := func(lang, subject string) billing.MessageTemplate {
		return billing.MessageTemplate{Event: billing.MilestoneRenewed, Channel: billing.ChannelEmail, Language: lang,
			Subject: subject, Body: subject + " body"}
	}
	cat := Catalog{Custom: map[TemplateKey]billing.MessageTemplate{}}
	for _, t := range []billing.MessageTemplate{tpl("de", "Verlängert"), tpl("fr", "Renouvelé"), tpl("pt-BR", "Renovado")} {
		cat.Custom[Key(t)] = t
	}
	tests := []struct {
		name                   string
		user, customer, defLng string
		want                   string
		wantLang               string
	}{
		{"the recipient's language", "de", "fr", "en", "Verlängert", "de"},
		{"else the customer's", "it", "fr", "de", "Renouvelé", "fr"},
		{"else the default language", "it", "es", "de", "Verlängert", "de"},
		{"else the built-in English", "it", "es", "nl", "[PAYMENT_NAME] was renewed", "en"},
		{"a regional tag falls back to its base", "de-AT", "fr", "en", "Verlängert", "de"},
		{"a user's language in another case finds the template", "DE", "fr", "en", "Verlängert", "de"},
		{"a customer's language in another case too", "it", "FR", "en", "Renouvelé", "fr"},
		{"a regional tag in lower case", "pt-br", "", "en", "Renovado", "pt-BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := cat.Find(billing.MilestoneRenewed, billing.ChannelEmail, Languages(tt.user, tt.customer, tt.defLng))
			require.True(t, ok)
			require.Equal(t, tt.want, got.Subject)
			require.Equal(t, tt.wantLang, got.Language)
		})
	}

	t.Run("an empty SMS text turns SMS off in that language", func(t *testing.T) {
		t.Parallel()
		off := billing.MessageTemplate{Event: billing.MilestoneSuspended, Channel: billing.ChannelSMS, Language: "de"}
		c := Catalog{Custom: map[TemplateKey]billing.MessageTemplate{Key(off): off}}
		_, ok := c.Find(billing.MilestoneSuspended, billing.ChannelSMS, Languages("de", "", ""))
		require.False(t, ok)
		got, ok := c.Find(billing.MilestoneSuspended, billing.ChannelSMS, Languages("fr", "", ""))
		require.True(t, ok, "other languages keep the built-in SMS text")
		require.Equal(t, "[PAYMENT_NAME] is suspended: [SUSPEND_REASON].", got.Body)
	})
}

func TestServiceMessages(t *testing.T) {
	t.Parallel()
	ann := billing.User{Login: "ann", FirstName: "Ann", Email: "ann@example.com", Phone: "+4915112345678", Language: "en"}
	noPhone := billing.User{Login: "bob", FirstName: "Bob", Email: "bob@example.com", Language: "en"}
	f := func(u billing.User) Facts {
		return Facts{User: u, ProductName: "Hosting", Price: billing.Money{Amount: 1299, Currency: "EUR"}}
	}
	var cat Catalog
	got := cat.Messages(Request{Milestone: billing.MilestoneSuspended}, billing.Product{}, f(ann), Languages("en", "", ""))
	require.Len(t, got, 2, "email, then SMS to a user with a phone")
	require.Equal(t, Message{Channel: billing.ChannelEmail, To: ann.Email, Subject: "Hosting is suspended",
		Body: got[0].Body, Language: "en", Template: "default:suspended"}, got[0])
	require.Equal(t, Message{Channel: billing.ChannelSMS, To: ann.Phone, Body: "Hosting is suspended: -.", Language: "en",
		Template: "default:suspended"}, got[1])
	require.Len(t, cat.Messages(Request{Milestone: billing.MilestoneSuspended}, billing.Product{}, f(noPhone), []string{"en"}), 1,
		"no SMS without a phone")
	require.Len(t, cat.Messages(Request{Milestone: billing.MilestoneRenewed}, billing.Product{}, f(ann), []string{"en"}), 1,
		"no SMS text: email only")
	require.Empty(t, cat.Messages(Request{Milestone: billing.MilestoneRenewal}, billing.Product{}, f(ann), nil), "no such event")
	require.False(t, cat.Sends(Request{Milestone: billing.MilestoneRenewal}, billing.Product{}))

	custom := billing.MessageTemplate{Event: billing.MilestoneActivated, Channel: billing.ChannelEmail, Language: "en",
		Subject: "Ours", Body: "Our text for [USER_NAME]"}
	c := Catalog{Custom: map[TemplateKey]billing.MessageTemplate{Key(custom): custom}}
	got = c.Messages(Request{Milestone: billing.MilestoneActivated}, billing.Product{}, f(noPhone), Languages("en", "", ""))
	require.Equal(t, []Message{{Channel: billing.ChannelEmail, To: noPhone.Email, Subject: "Ours", Body: "Our text for Bob",
		Language: "en", Template: "custom:activated"}}, got, "staff's template wins over the built-in one")
}

func TestMessagesDates(t *testing.T) {
	t.Parallel()
	tpl := billing.MessageTemplate{Event: "x", Channel: billing.ChannelEmail, Subject: "[PAID_UNTIL]", Body: "[DELETE_DATE] [DAYS]"}
	f := Facts{TimeZone: "Europe/Berlin", Days: 3, PaidUntil: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	m := RenderTemplate(tpl, "ann@example.com", f.Values())
	require.Equal(t, "2026-12-01 10:00 CET", m.Subject)
	require.Equal(t, " 3", m.Body)
}

func TestHTMLValuesAreEscaped(t *testing.T) {
	t.Parallel()
	tpl := billing.MessageTemplate{Event: EventMessage, Channel: billing.ChannelEmail, Subject: "For [USER_NAME]",
		Body: "Hello [USER_NAME]", HTMLBody: "<p>Hello <b>[USER_NAME]</b></p>"}
	m := RenderTemplate(tpl, "x@example.com", map[string]string{"[USER_NAME]": `<script>alert("x")</script> & Co`})
	require.Equal(t, `<p>Hello <b>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co</b></p>`, m.HTMLBody,
		"values are escaped, the template's own markup is not")
	require.Equal(t, `Hello <script>alert("x")</script> & Co`, m.Body, "the text body is text: nothing to escape")
}
