package activities_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/twiliotest"
	"github.com/tempobill/billing/sms"
)

// TestMilestoneSMSInRecipientLanguage: a service milestone's SMS, sent by
// the activity the subscription workflow calls, reaches a Twilio-compatible
// fake through twilio-go: a user of language pt-BR gets staff's Portuguese
// template (found through the base language pt) with the milestone's
// variables, a user without a language the built-in English text, a user
// without a phone no SMS.
func TestMilestoneSMSInRecipientLanguage(t *testing.T) {
	t.Parallel()
	f := setupOn(t, dbtest.OwnPool(t), billing.ProductInput{}) // its own templates
	fake := twiliotest.Start()
	t.Cleanup(fake.Close)
	f.acts.SMS = sms.NewTwilio("AC0123", "token", "+15005550006", fake.Client())
	require.NoError(t, f.st.SetMessageTemplates(f.ctx, billing.MessageTemplate{Event: "activated", Channel: billing.ChannelSMS,
		Language: "pt", Body: "Ola [USER_NAME], o servico [SERVICE_ID] ([PAYMENT_NAME]) esta ativo ate [PAID_UNTIL]."}))
	_, err := f.st.Pool().Exec(f.ctx, `UPDATE users SET phone = '+5511911111111', language = 'pt-BR' WHERE customer_id = $1`, f.cust.ID)
	require.NoError(t, err)
	for i, phone := range []string{"+4915122222222", ""} {
		login := "u" + strconv.Itoa(i) + strconv.FormatInt(f.cust.ID, 10)
		_, err := f.st.CreateUser(f.ctx, f.cust.ID, billing.UserCreate{Login: login, Email: login + "@example.com", Phone: phone}, "x")
		require.NoError(t, err)
	}
	in := f.activated()
	in.PaidUntil = time.Date(2031, 5, 6, 12, 0, 0, 0, time.UTC)
	_, err = f.acts.SendNotices(f.ctx, in)
	require.NoError(t, err)

	sid := strconv.FormatInt(f.sub.ID, 10)
	require.ElementsMatch(t, []twiliotest.Message{
		{AccountSID: "AC0123", From: "+15005550006", To: "+5511911111111", Body: "Ola Ann, o servico " + sid + " (VPS) esta ativo ate 2031-05-06 12:00 UTC."},
		{AccountSID: "AC0123", From: "+15005550006", To: "+4915122222222", Body: "VPS is active, paid until 2031-05-06 12:00 UTC."},
	}, fake.Messages())
	ns, err := f.st.Notices(f.ctx, f.sub.ID)
	require.NoError(t, err)
	langs := map[string]string{}
	for _, n := range ns {
		if n.Channel == billing.ChannelSMS {
			require.Equal(t, billing.NoticeSent, n.Status, "%s", n.Error)
			langs[n.Recipient] = n.Language
		}
	}
	require.Equal(t, map[string]string{"+5511911111111": "pt", "+4915122222222": "en"}, langs, "the log records the language used")
}
