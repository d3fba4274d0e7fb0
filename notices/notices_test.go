package notices

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestPick(t *testing.T) {
	t.Parallel()
	product := billing.Product{PaymentStates: map[string]billing.NoticeSetting{
		billing.StateApproved: {Email: true, SMS: true, Subject: "Paid [PAYMENT_NAME]", Body: "Thanks", SMSBody: "Paid",
			SenderName: "Shop", ReplyTo: "help@example.com"},
		billing.StateIncoming:           {SMS: true, SMSBody: "Due soon"},
		billing.StateNonSufficientFunds: {Subject: "Short", Body: "Not sent"}, // neither channel
	}}
	overrides := map[string]billing.NoticeTemplate{
		billing.MilestoneActivated: {Milestone: billing.MilestoneActivated, Subject: "Ours", Body: "Our text", Custom: true},
	}
	def := func(m string) billing.NoticeTemplate { return defaults[m] }
	tests := []struct {
		name string
		req  Request
		want Template
		ok   bool
	}{
		{"product state by email and SMS", Request{billing.StateApproved, true},
			Template{Name: "product:approved", Email: true, SMS: true, Subject: "Paid [PAYMENT_NAME]", Body: "Thanks", SMSBody: "Paid",
				SenderName: "Shop", ReplyTo: "help@example.com"}, true},
		{"product state by SMS only", Request{billing.StateIncoming, true},
			Template{Name: "product:incoming", SMS: true, SMSBody: "Due soon"}, true},
		{"product state by neither channel", Request{billing.StateNonSufficientFunds, true}, Template{}, false},
		{"product state the product leaves out", Request{billing.StateDeclined, true}, Template{}, false},
		{"a product state never falls back to the service texts", Request{billing.MilestoneActivated, true}, Template{}, false},
		{"staff's replacement wins over the default, its SMS text too", Request{billing.MilestoneActivated, false},
			Template{Name: "custom:activated", Email: true, Subject: "Ours", Body: "Our text"}, true},
		{"built-in default with an SMS text", Request{billing.MilestoneSuspended, false},
			Template{Name: "default:suspended", Email: true, SMS: true, Subject: def(billing.MilestoneSuspended).Subject,
				Body: def(billing.MilestoneSuspended).Body, SMSBody: def(billing.MilestoneSuspended).SMSBody}, true},
		{"built-in default without an SMS text: no SMS", Request{billing.MilestoneRenewed, false},
			Template{Name: "default:renewed", Email: true, Subject: def(billing.MilestoneRenewed).Subject,
				Body: def(billing.MilestoneRenewed).Body}, true},
		{"no service notice", Request{billing.MilestoneRenewal, false}, Template{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Pick(tt.req, product, overrides)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, tt.want, got)
			}
		})
	}
	require.NotEmpty(t, def(billing.MilestoneActivated).SMSBody, "the replacement above drops an SMS text the default has")
}

func TestMessages(t *testing.T) {
	t.Parallel()
	both := Template{Email: true, SMS: true, Subject: "Hi [USER_NAME]", Body: "[PAYMENT_NAME] for [PAYMENT_AMOUNT]",
		SMSBody: "[PAYMENT_NAME] [UNKNOWN]"}
	ann := billing.User{Login: "ann", FirstName: "Ann", Email: "ann@example.com", Phone: "+4915112345678"}
	noPhone := billing.User{Login: "bob", FirstName: "Bob", Email: "bob@example.com"}
	facts := func(u billing.User) Facts {
		return Facts{User: u, ProductName: "Hosting", Price: billing.Money{Amount: 1299, Currency: "EUR"}}
	}
	email := func(to, name string) Message {
		return Message{Channel: billing.ChannelEmail, To: to, Subject: "Hi " + name, Body: "Hosting for 12.99 EUR"}
	}
	sms := Message{Channel: billing.ChannelSMS, To: ann.Phone, Body: "Hosting [UNKNOWN]"}
	renewed, ok := Pick(Request{Milestone: billing.MilestoneRenewed}, billing.Product{}, nil)
	require.True(t, ok)
	tests := []struct {
		name string
		t    Template
		u    billing.User
		want []Message
	}{
		{"email, then SMS to a user with a phone", both, ann, []Message{email(ann.Email, "Ann"), sms}},
		{"no SMS to a user without a phone", both, noPhone, []Message{email(noPhone.Email, "Bob")}},
		{"SMS only", Template{SMS: true, SMSBody: both.SMSBody}, ann, []Message{sms}},
		{"SMS only, no phone: nothing", Template{SMS: true, SMSBody: both.SMSBody}, noPhone, nil},
		{"email only", Template{Email: true, Subject: both.Subject, Body: both.Body}, ann, []Message{email(ann.Email, "Ann")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.t.Messages(facts(tt.u)))
		})
	}
	t.Run("a service text without SMS text: email only, phone or not", func(t *testing.T) {
		t.Parallel()
		got := renewed.Messages(facts(ann))
		require.Len(t, got, 1)
		require.Equal(t, billing.ChannelEmail, got[0].Channel)
		require.Equal(t, "Hosting was renewed", got[0].Subject)
	})
}

func TestMessagesDates(t *testing.T) {
	t.Parallel()
	tpl := Template{Email: true, Subject: "[PAID_UNTIL]", Body: "[DELETE_DATE] [DAYS]"}
	f := Facts{User: billing.User{Email: "ann@example.com"}, TimeZone: "Europe/Berlin", Days: 3,
		PaidUntil: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	require.Equal(t, []Message{{Channel: billing.ChannelEmail, To: "ann@example.com", Subject: "2026-12-01 10:00 CET", Body: " 3"}},
		tpl.Messages(f))
}
