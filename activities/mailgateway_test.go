package activities_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// gateway inserts a mail gateway of dept whose address is address (the
// gateway API is built elsewhere).
func (s *support) gateway(dept billing.Department, address string) billing.MailGateway {
	s.t.Helper()
	g := billing.MailGateway{Name: "gw " + address, Type: billing.GatewayExternal, Protocol: "imap", Host: "127.0.0.1",
		Port: 993, Security: "implicit", Login: "support", Address: address, DepartmentID: dept.ID, MaxMessageBytes: 25 << 20}
	require.NoError(s.t, s.st.Pool().QueryRow(s.ctx, `INSERT INTO mail_gateways (name, type, protocol, host, port, security,
		login, password_nonce, password_sealed, address, department_id) VALUES ($1, $2, $3, $4, $5, $6, $7, '\x00', '\x00', $8, $9)
		RETURNING id`, g.Name, g.Type, g.Protocol, g.Host, g.Port, g.Security, g.Login, g.Address, g.DepartmentID).Scan(&g.ID))
	return g
}

// mailMsg is a mail to build: From, To, Subject, a body and extra header lines.
type mailMsg struct {
	from, to, subject, body string
	headers                 []string
}

// raw writes m with a Message-ID of its own unless its headers name one.
func (m mailMsg) raw() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n", m.from, m.to, m.subject)
	hasID := false
	for _, h := range m.headers {
		hasID = hasID || strings.HasPrefix(strings.ToLower(h), "message-id:")
		b.WriteString(h + "\r\n")
	}
	if !hasID {
		fmt.Fprintf(&b, "Message-ID: <%s@client.example>\r\n", strings.ToLower(rand.Text()))
	}
	if !strings.Contains(strings.ToLower(strings.Join(m.headers, "\n")), "content-type:") {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	}
	body := m.body
	if !strings.Contains(body, "\r\n") {
		body = strings.ReplaceAll(body, "\n", "\r\n")
	}
	b.WriteString("\r\n" + body)
	return []byte(b.String())
}

// process runs ProcessMail on raw as mailbox mail id.
func (s *support) process(g billing.MailGateway, id string, raw []byte) activities.ProcessMailResult {
	s.t.Helper()
	res, err := s.acts.ProcessMail(s.ctx, activities.ProcessMailInput{Gateway: g, MailboxID: id, Raw: raw})
	require.NoError(s.t, err)
	return res
}

// tickets counts the tickets of customer id.
func (s *support) tickets(customerID int64) int {
	s.t.Helper()
	var n int
	require.NoError(s.t, s.st.Pool().QueryRow(s.ctx, `SELECT count(*) FROM tickets WHERE customer_id = $1`, customerID).Scan(&n))
	return n
}

// toAddress lists the events of the notices to address, in ID order, and
// whether each names no customer ("event" or "event (address)").
func (s *support) toAddress(address string) []string {
	s.t.Helper()
	rows, err := s.st.Pool().Query(s.ctx, `SELECT event || CASE WHEN customer_id IS NULL AND staff_id IS NULL
		THEN ' (address)' ELSE '' END FROM notices WHERE lower(recipient) = lower($1) ORDER BY id`, address)
	require.NoError(s.t, err)
	var out []string
	for rows.Next() {
		var v string
		require.NoError(s.t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(s.t, rows.Err())
	return out
}

// TestProcessMailTicketAndReplies: a client's mail (its address in another
// case) opens a ticket in the gateway's department, tells the client
// (ticket_from_email, threaded) and the department's staff; the client's
// answer to that notice, and a mail whose References name the first mail,
// are posts to the same ticket, without the quote; a mail not addressed
// to the gateway, an empty one and an auto-reply are ignored.
func TestProcessMailTicketAndReplies(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	s.acts.PublicURL = "https://panel.provider.example"
	g := s.gateway(s.tech, s.tech.Email)
	first := mailMsg{from: "Ann <" + strings.ToUpper(s.ann.Email) + ">", to: strings.ToUpper(s.tech.Email),
		subject: "VPS down", body: "My VPS does not boot."}
	firstRaw := first.raw()
	res := s.process(g, "1:1", firstRaw)
	require.Equal(t, activities.MailTicket, res.Outcome, res.Reason)
	view, err := s.st.Ticket(s.ctx, res.TicketID)
	require.NoError(t, err)
	require.Equal(t, s.cust.ID, view.CustomerID)
	require.Equal(t, s.tech.ID, view.DepartmentID)
	require.Equal(t, "VPS down", view.Subject)
	require.Equal(t, billing.SourceEmail, view.Source)
	require.Len(t, view.Messages, 1)
	require.Equal(t, "My VPS does not boot.", view.Messages[0].Body)
	require.Equal(t, s.ann.ID, *view.Messages[0].AuthorUserID)
	require.Equal(t, []string{"ticket_assigned -> " + s.john.Email, "ticket_assigned -> " + s.gary.Email,
		"ticket_from_email -> " + s.ann.Email}, s.queued("ticket", res.TicketID, 0))

	var noticeID, inReplyTo, subject, body string
	require.NoError(t, s.st.Pool().QueryRow(s.ctx, `SELECT message_id, in_reply_to, subject, body FROM notices
		WHERE event = 'ticket_from_email' AND object_id = $1`, fmt.Sprint(res.TicketID)).Scan(&noticeID, &inReplyTo, &subject, &body))
	mailID := firstHeader(t, firstRaw, "Message-ID")
	require.Equal(t, mailID, inReplyTo, "threaded to the client's mail")
	require.Contains(t, subject, fmt.Sprintf("[Ticket #%d]", res.TicketID))
	require.Contains(t, body, fmt.Sprintf("registered in the ticket system as ticket #%d", res.TicketID))
	require.Contains(t, body, fmt.Sprintf("https://panel.provider.example/tickets/%d", res.TicketID))

	// The client answers the notice: In-Reply-To is its Message-ID.
	reply := mailMsg{from: s.ann.Email, to: s.tech.Email, subject: "Re: " + subject,
		body:    "It works now, thanks.\n\nOn Sun, 22 Nov 2026 at 10:05, Support wrote:\n> Your email has been registered",
		headers: []string{"In-Reply-To: " + noticeID, "References: " + noticeID}}
	mark := s.last()
	res2 := s.process(g, "1:2", reply.raw())
	require.Equal(t, activities.MailMessage, res2.Outcome, res2.Reason)
	require.Equal(t, res.TicketID, res2.TicketID)
	view, err = s.st.Ticket(s.ctx, res.TicketID)
	require.NoError(t, err)
	require.Equal(t, "It works now, thanks.", view.Messages[1].Body, "the quote is left out")
	require.Equal(t, []string{"ticket_client_post -> " + s.john.Email, "ticket_client_post -> " + s.gary.Email},
		s.queued("ticket", res.TicketID, mark), "staff hear of the post as from the API; the client is not answered")

	// Bob's mail names Ann's first mail only (no token): the stored Message-ID threads it.
	bob := mailMsg{from: s.bob.Email, to: s.tech.Email, subject: "another subject", body: "Same here.",
		headers: []string{"References: " + mailID}}
	res3 := s.process(g, "1:3", bob.raw())
	require.Equal(t, activities.MailMessage, res3.Outcome, res3.Reason)
	require.Equal(t, res.TicketID, res3.TicketID)

	for _, c := range []struct {
		name   string
		m      mailMsg
		reason string
	}{
		{"not addressed", mailMsg{from: s.ann.Email, to: "someone@provider.example", subject: "x", body: "x"}, "not addressed to " + s.tech.Email},
		{"empty", mailMsg{from: s.ann.Email, to: s.tech.Email, subject: "x", body: "  \n"}, "empty"},
		{"auto-reply", mailMsg{from: s.ann.Email, to: s.tech.Email, subject: "Out of office", body: "Back Monday.",
			headers: []string{"Auto-Submitted: auto-replied"}}, "auto-generated: Auto-Submitted: auto-replied"},
	} {
		r := s.process(g, "2:"+c.name, c.m.raw())
		require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailIgnored, Reason: c.reason}, r, c.name)
	}
	require.Equal(t, 1, s.tickets(s.cust.ID))
	require.Equal(t, []string{"ticket_from_email"}, s.toAddress(s.ann.Email), "nothing answers an ignored mail")
}

func firstHeader(t *testing.T, raw []byte, key string) string {
	t.Helper()
	for _, l := range strings.Split(string(raw), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s", key)
	return ""
}

// TestProcessMailOnce: a mail processed again (the same mailbox id, or the
// same Message-ID through another gateway) is a duplicate naming the ticket
// it made; eight concurrent calls for one mail make one ticket; a mail
// another gateway ignored as not its own is still taken by the gateway it
// was sent to.
func TestProcessMailOnce(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	other := s.gateway(s.sales, "sales-"+strings.ToLower(rand.Text()[:8])+"@provider.example")
	m := mailMsg{from: s.ann.Email, to: s.tech.Email + ", " + other.Address, subject: "Invoice", body: "Where is my invoice?"}
	raw := m.raw()
	res := s.process(g, "7:1", raw)
	require.Equal(t, activities.MailTicket, res.Outcome)
	again := s.process(g, "7:1", raw)
	require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailDuplicate, TicketID: res.TicketID, Reason: "ticket"}, again)
	viaOther := s.process(other, "9:4", raw)
	require.Equal(t, activities.MailDuplicate, viaOther.Outcome)
	require.Equal(t, res.TicketID, viaOther.TicketID)
	require.Equal(t, 1, s.tickets(s.cust.ID))

	// Sent to the sales gateway only, but its mailbox got it first too.
	only := mailMsg{from: s.ann.Email, to: other.Address, subject: "Upgrade", body: "I want more RAM."}.raw()
	require.Equal(t, activities.MailIgnored, s.process(g, "7:2", only).Outcome)
	require.Equal(t, activities.MailTicket, s.process(other, "9:5", only).Outcome, "not the tech gateway's mail: its Message-ID was not claimed")

	raw = mailMsg{from: s.ann.Email, to: s.tech.Email, subject: "Race", body: "Eight at once."}.raw()
	results := make([]activities.ProcessMailResult, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.acts.ProcessMail(s.ctx, activities.ProcessMailInput{Gateway: g, MailboxID: "8:1", Raw: raw})
		}()
	}
	wg.Wait()
	outcomes := map[string]int{}
	for i, r := range results {
		require.NoError(t, errs[i])
		outcomes[r.Outcome]++
		require.NotZero(t, r.TicketID)
		require.Equal(t, results[0].TicketID, r.TicketID)
	}
	require.Equal(t, map[string]int{activities.MailTicket: 1, activities.MailDuplicate: 7}, outcomes)
	require.Equal(t, 3, s.tickets(s.cust.ID))
}

// TestProcessMailThreadingIsChecked: a reference to a ticket counts only
// with the ticket's own reply token and for the sender's customer; a
// forged token, another customer's ticket or a subject alone opens a new
// ticket instead.
func TestProcessMailThreadingIsChecked(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	mine := s.ticket(s.tech, "Mine")
	theirs := newSupport(t).ticket(s.tech, "Someone else's")
	send := func(name string, headers []string, body string) activities.ProcessMailResult {
		return s.process(g, "5:"+name, mailMsg{from: s.ann.Email, to: s.tech.Email, subject: fmt.Sprintf("Re: [Ticket #%d] Mine", mine.ID),
			body: body, headers: headers}.raw())
	}
	ok := send("token", nil, "Hello.\n\n"+activities.TicketReference(mine.ID, mine.ReplyToken))
	require.Equal(t, activities.MailMessage, ok.Outcome)
	require.Equal(t, mine.ID, ok.TicketID)

	forged := send("forged", []string{"In-Reply-To: " + activities.TicketRootID(mine.ID, "0123456789abcdef", "billing@provider.example")}, "Let me in.")
	require.Equal(t, activities.MailTicket, forged.Outcome, "a wrong token is no reference")
	require.NotEqual(t, mine.ID, forged.TicketID)

	foreign := send("foreign", nil, "Hi.\n"+activities.TicketReference(theirs.ID, theirs.ReplyToken))
	require.Equal(t, activities.MailTicket, foreign.Outcome, "another customer's ticket is never posted to")
	require.NotEqual(t, theirs.ID, foreign.TicketID)
	view, err := s.st.Ticket(s.ctx, foreign.TicketID)
	require.NoError(t, err)
	require.Equal(t, s.cust.ID, view.CustomerID)

	bySubject := send("subject", nil, "Only the subject names it.")
	require.Equal(t, activities.MailTicket, bySubject.Outcome, "never by subject alone")
	require.Equal(t, 4, s.tickets(s.cust.ID))
}

// TestProcessMailIncomingAndNotices: an unknown sender's mail goes to
// Incoming emails and the sender is invited to register (once a day
// however often they write); a too large and an unreadable mail go there
// too (the unreadable one with its raw text); an incident refusal opens no
// ticket and tells the sender; the auto-answers to one address stop at
// five an hour; the address notices name no customer.
func TestProcessMailIncomingAndNotices(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	s.acts.PublicURL = "https://panel.provider.example/"
	g := s.gateway(s.tech, s.tech.Email)
	stranger := "stranger-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	for i := range 3 {
		r := s.process(g, fmt.Sprint("3:", i), mailMsg{from: stranger, to: s.tech.Email, subject: "Hi", body: "Who are you?"}.raw())
		require.Equal(t, activities.MailIncoming, r.Outcome)
		require.Equal(t, billing.IncomingUnknownSender, r.Reason)
		require.NotZero(t, r.IncomingEmailID)
	}
	require.Equal(t, []string{"email_confirmation (address)"}, s.toAddress(stranger), "invited once a day")
	var body string
	require.NoError(t, s.st.Pool().QueryRow(s.ctx, `SELECT body FROM notices WHERE recipient = $1`, stranger).Scan(&body))
	require.Contains(t, body, "https://panel.provider.example/register?email="+strings.ReplaceAll(stranger, "@", "%40"))

	big, err := s.acts.ProcessMail(s.ctx, activities.ProcessMailInput{Gateway: g, MailboxID: "3:big", TooLargeBytes: 30 << 20})
	require.NoError(t, err)
	require.Equal(t, activities.MailIncoming, big.Outcome)
	require.Equal(t, billing.IncomingTooLarge, big.Reason)

	broken := []byte("From: " + stranger + "\r\nTo: " + s.tech.Email + "\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n")
	bad := s.process(g, "3:bad", broken)
	require.Equal(t, activities.MailIncoming, bad.Outcome)
	require.Equal(t, billing.IncomingMalformed, bad.Reason)
	var detail string
	var raw []byte
	require.NoError(t, s.st.Pool().QueryRow(s.ctx, `SELECT detail, raw FROM incoming_emails WHERE id = $1`, bad.IncomingEmailID).Scan(&detail, &raw))
	require.Equal(t, "the mail (multipart/mixed) has no parts", detail)
	require.Equal(t, broken, raw)

	// Incidents: the department requires one and Acme has none.
	yes := true
	name := "Premium " + strings.ToLower(rand.Text()[:6])
	premium, err := s.st.CreateDepartment(s.ctx, billing.DepartmentInput{Name: &name, RequiresIncidents: &yes})
	require.NoError(t, err)
	pg := s.gateway(premium, "premium-"+strings.ToLower(rand.Text()[:8])+"@provider.example")
	for i := range 7 {
		r := s.process(pg, fmt.Sprint("4:", i), mailMsg{from: s.ann.Email, to: pg.Address, subject: "Help", body: fmt.Sprint("Request ", i)}.raw())
		require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailIgnored, Reason: activities.ReasonIncidentRequired}, r)
	}
	require.Equal(t, 0, s.tickets(s.cust.ID), "no ticket is left behind")
	require.Equal(t, []string{"incident_required (address)", "incident_required (address)", "incident_required (address)",
		"incident_required (address)", "incident_required (address)"}, s.toAddress(s.ann.Email), "at most five an hour")

	// The limit counts every gateway notice: Bob opens seven tickets, and hears of five.
	for i := range 7 {
		r := s.process(g, fmt.Sprint("6:", i), mailMsg{from: s.bob.Email, to: s.tech.Email, subject: "Help", body: fmt.Sprint("Request ", i)}.raw())
		require.Equal(t, activities.MailTicket, r.Outcome)
	}
	require.Len(t, s.toAddress(s.bob.Email), 5)
	require.Equal(t, 7, s.tickets(s.cust.ID))
}

// TestQueueMailNotice: a notice to an address is queued once per key, is
// refused for an event that goes to users, and names no customer.
func TestQueueMailNotice(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	to := "x-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	queue := func(event, key string) error {
		return s.st.Tx(s.ctx, func(tx *store.Store) error {
			return activities.QueueMailNotice(s.ctx, tx, event, to, key, map[string]string{"[TICKET_ID]": "12", "[MAIL_SUBJECT]": "Hi"}, "en")
		})
	}
	require.NoError(t, queue(notices.EventEmailConfirmed, "incoming:1"))
	require.NoError(t, queue(notices.EventEmailConfirmed, "incoming:1"))
	require.Equal(t, []string{"email_confirmed (address)"}, s.toAddress(to))
	var e *billing.Error
	require.ErrorAs(t, queue(notices.EventTicketReply, "x"), &e)
	require.Equal(t, billing.EINVALID, e.Code)
}

// TestProcessMailCorpus feeds the parser's corpus to a gateway of
// support@company.net: what each mail becomes, its attachments judged by
// the ticket rules.
func TestProcessMailCorpus(t *testing.T) {
	s := newSupport(t)
	g := s.gateway(s.tech, "support@company.net")
	u := strings.ToLower(rand.Text()[:6])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Contoso " + u, Country: "DE",
		User: billing.UserCreate{Login: "jm" + u, Email: "jmueller@contoso.com", FirstName: "Jürgen",
			EmailVerified: true}}
	in.Defaults()
	contoso, _, err := s.st.CreateCustomer(s.ctx, in, "x")
	require.NoError(t, err)
	in.Name, in.User = "Carol "+u, billing.UserCreate{Login: "carol" + u, Email: "carol@example.com", FirstName: "Carol", EmailVerified: true}
	carol, _, err := s.st.CreateCustomer(s.ctx, in, "x")
	require.NoError(t, err)
	want := map[string]string{
		"attachments.eml":             "ticket",
		"bad_base64.eml":              "incoming: malformed",
		"bounce.eml":                  "ignored: auto-generated",
		"broken_charset.eml":          "incoming: unknown_sender",
		"eightbit_headers.eml":        "incoming: unknown_sender",
		"empty.eml":                   "ignored: empty",
		"forwarded.eml":               "ticket",
		"gmail_alternative.eml":       "incoming: unknown_sender",
		"header_without_colon.eml":    "incoming: malformed",
		"html_only.eml":               "incoming: unknown_sender",
		"koi8r.eml":                   "incoming: unknown_sender",
		"mailing_list.eml":            "ignored: auto-generated",
		"missing_boundary.eml":        "incoming: malformed",
		"not_addressed.eml":           "ignored: not addressed",
		"outlook_alternative.eml":     "ticket",
		"shift_jis.eml":               "incoming: unknown_sender",
		"thunderbird_alternative.eml": "incoming: unknown_sender",
		"vacation.eml":                "ignored: auto-generated",
		"windows1251.eml":             "incoming: unknown_sender",
	}
	files, err := filepath.Glob("../mailgateway/inbound/testdata/*.eml")
	require.NoError(t, err)
	require.Len(t, files, len(want))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		r := s.process(g, "c:"+filepath.Base(f), raw)
		got := r.Outcome
		if r.Reason != "" {
			got += ": " + r.Reason
		}
		w := want[filepath.Base(f)]
		require.True(t, strings.HasPrefix(got, w), "%s: %s, want %s", filepath.Base(f), got, w)
		if filepath.Base(f) == "attachments.eml" {
			view, err := s.st.Ticket(s.ctx, r.TicketID)
			require.NoError(t, err)
			var names []string
			for _, a := range view.Messages[0].Attachments {
				names = append(names, a.Name+" "+a.ContentType)
			}
			require.Equal(t, []string{"attachment-1.png image/png", "Счёт №1.pdf application/pdf", "notes.txt text/plain; charset=utf-8"}, names)
		}
		require.Equal(t, activities.MailDuplicate, s.process(g, "c:"+filepath.Base(f), raw).Outcome)
	}
	require.Equal(t, 1, s.tickets(contoso.ID))
	require.Equal(t, 2, s.tickets(carol.ID))
}

// TestProcessMailAttachments: the files the ticket rules take are attached;
// the others (an executable, an HTML page) are left out with a line in the
// message saying which and why.
func TestProcessMailAttachments(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	part := func(typ, name, content string) string {
		return "--b\r\nContent-Type: " + typ + "\r\nContent-Disposition: attachment; filename=\"" + name +
			"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte(content)) + "\r\n"
	}
	body := "--b\r\nContent-Type: text/plain\r\n\r\nScreenshots attached.\r\n" + part("image/png", "screen.png", png) +
		part("application/octet-stream", "tool.exe", "MZ\x90\x00") + part("text/html", "page.html", "<html><script>x</script></html>") + "--b--\r\n"
	r := s.process(g, "a:1", mailMsg{from: s.ann.Email, to: s.tech.Email, subject: "Files", body: body,
		headers: []string{"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b"}}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome, r.Reason)
	view, err := s.st.Ticket(s.ctx, r.TicketID)
	require.NoError(t, err)
	m := view.Messages[0]
	require.Len(t, m.Attachments, 1)
	require.Equal(t, "screen.png", m.Attachments[0].Name)
	require.Equal(t, "Screenshots attached.\n\n"+
		`[The attached file "tool.exe" was left out: .exe files are not accepted; attach `+billing.AcceptedAttachments+".]\n"+
		`[The attached file "page.html" was left out: text/html is not accepted; attach `+billing.AcceptedAttachments+".]", m.Body)
}

// TestProcessMailPayerSenders: a sender address is matched against
// verified payers' emails too. A payer's address of one customer opens that customer's
// ticket, from the address with no user (and no ticket_from_email, which
// goes to users); an address that is emails of two customers (one's user,
// the other's payer; or two payers) goes to Incoming emails as not_unique,
// email_not_unique is queued once per mail and nothing else happens: the
// mail waits for staff. Payers of a deleted customer don't count.
func TestProcessMailPayerSenders(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	other := func(name string) billing.Customer {
		in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: name, Country: "DE",
			User: billing.UserCreate{Login: "u" + strings.ToLower(rand.Text()[:10]), Email: strings.ToLower(rand.Text()[:10]) + "@example.com"}}
		in.Defaults()
		c, _, err := s.st.CreateCustomer(s.ctx, in, "x")
		require.NoError(t, err)
		return c
	}
	payer := func(customerID int64, email string) {
		p, err := s.st.CreatePayer(s.ctx, customerID, billing.PayerInput{Type: "individual", LegalName: "Payer", Email: email, Country: "DE"})
		require.NoError(t, err)
		_, err = s.st.Pool().Exec(s.ctx, `UPDATE payers SET verification = 'verified', verified_at = now() WHERE id = $1`, p.ID) // staff verified it
		require.NoError(t, err)
	}
	accounts := "accounts-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	payer(s.cust.ID, accounts)

	r := s.process(g, "7:1", mailMsg{from: "Accounts <" + strings.ToUpper(accounts) + ">", to: s.tech.Email, subject: "Invoice 12", body: "Please resend it."}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome, r.Reason)
	view, err := s.st.Ticket(s.ctx, r.TicketID)
	require.NoError(t, err)
	require.Equal(t, s.cust.ID, view.CustomerID, "the payer's customer")
	require.Nil(t, view.Messages[0].AuthorUserID, "a payer is no user")
	require.Equal(t, accounts, strings.ToLower(view.Messages[0].AuthorEmail), "the author is the address")
	require.Empty(t, s.toAddress(accounts), "ticket_from_email goes to users only")

	// The same address becomes a payer of a second customer: not unique.
	second := other("Second " + strings.ToLower(rand.Text()[:6]))
	payer(second.ID, accounts)
	// Ann's address as a payer of a third customer: a user and a payer.
	third := other("Third " + strings.ToLower(rand.Text()[:6]))
	payer(third.ID, strings.ToUpper(s.ann.Email))
	before := s.tickets(s.cust.ID)
	for _, c := range []struct{ name, from string }{{"two payers", accounts}, {"a user and a payer", s.ann.Email}} {
		id := "8:" + c.name
		raw := mailMsg{from: c.from, to: s.tech.Email, subject: "Who am I", body: "Hello."}.raw()
		r := s.process(g, id, raw)
		require.Equal(t, activities.MailIncoming, r.Outcome, c.name)
		require.Equal(t, billing.IncomingNotUnique, r.Reason, c.name)
		require.Equal(t, activities.MailDuplicate, s.process(g, id, raw).Outcome, "%s: a retried poll", c.name)
		var status, detail string
		require.NoError(t, s.st.Pool().QueryRow(s.ctx, `SELECT status, detail FROM incoming_emails WHERE id = $1`, r.IncomingEmailID).Scan(&status, &detail))
		require.Equal(t, billing.IncomingNew, status, "%s: waits for staff", c.name)
		require.Equal(t, "the address is the email of users or payers of 2 clients", detail)
	}
	require.Equal(t, before, s.tickets(s.cust.ID), "no ticket for a mail that is not unique")
	require.Equal(t, 0, s.tickets(second.ID)+s.tickets(third.ID))
	require.Equal(t, []string{"email_not_unique (address)"}, s.toAddress(accounts), "queued once")
	require.Equal(t, []string{"email_not_unique (address)"}, s.toAddress(s.ann.Email), "queued once, and no ticket_from_email")

	// The second customer deleted: its payer no longer counts.
	_, err = s.st.Pool().Exec(s.ctx, `UPDATE customers SET status = 'deleted' WHERE id = $1`, second.ID)
	require.NoError(t, err)
	r = s.process(g, "9:1", mailMsg{from: accounts, to: s.tech.Email, subject: "Again", body: "Hello again."}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome, r.Reason)
	view, err = s.st.Ticket(s.ctx, r.TicketID)
	require.NoError(t, err)
	require.Equal(t, s.cust.ID, view.CustomerID)
}

// TestProcessMailUnconfirmedAddressIsNoSender: a client who gives one of
// their users a stranger's address (nothing confirms it) does not get the
// stranger's mail: it waits under Incoming emails as an unknown sender's,
// and only once the address is confirmed does its mail open the user's
// tickets.
func TestProcessMailUnconfirmedAddressIsNoSender(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	stranger := "victim-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	u, err := s.st.CreateUser(s.ctx, s.cust.ID, billing.UserCreate{Login: "claim" + strings.ToLower(rand.Text()[:8]),
		Email: stranger, FirstName: "Claimed"}, "x")
	require.NoError(t, err)
	r := s.process(g, "11:1", mailMsg{from: stranger, to: s.tech.Email, subject: "My contract", body: "Private."}.raw())
	require.Equal(t, activities.MailIncoming, r.Outcome, "an address nobody confirmed names no client")
	require.Equal(t, billing.IncomingUnknownSender, r.Reason)
	require.Equal(t, 0, s.tickets(s.cust.ID), "the client who typed the address gets none of its mail")

	_, err = s.st.Pool().Exec(s.ctx, `UPDATE users SET email_verified = true WHERE id = $1`, u.ID) // the activation link
	require.NoError(t, err)
	r = s.process(g, "11:2", mailMsg{from: stranger, to: s.tech.Email, subject: "Again", body: "Confirmed now."}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome, r.Reason)
	require.Equal(t, 1, s.tickets(s.cust.ID))
}

// TestProcessMailReusedMessageID: a broken client that gives every mail
// the same Message-ID loses none of them: a mail with another's Message-ID
// but other content is a mail of its own (a ticket here), while each one
// read again, or through a second gateway it was also sent to, is still a
// duplicate of what it became.
func TestProcessMailReusedMessageID(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	other := s.gateway(s.sales, "sales-"+strings.ToLower(rand.Text()[:8])+"@provider.example")
	id := "Message-ID: <" + strings.ToLower(rand.Text()) + "@broken-client.example>"
	to := s.tech.Email + ", " + other.Address
	first := mailMsg{from: s.ann.Email, to: to, subject: "Disk full", body: "My disk is full.", headers: []string{id}}.raw()
	second := mailMsg{from: s.ann.Email, to: to, subject: "Invoice wrong", body: "The invoice is wrong.", headers: []string{id}}.raw()

	a := s.process(g, "12:1", first)
	require.Equal(t, activities.MailTicket, a.Outcome)
	b := s.process(g, "12:2", second)
	require.Equal(t, activities.MailTicket, b.Outcome, "another mail with the same Message-ID is not lost: %s", b.Reason)
	require.NotEqual(t, a.TicketID, b.TicketID)
	view, err := s.st.Ticket(s.ctx, b.TicketID)
	require.NoError(t, err)
	require.Equal(t, "Invoice wrong", view.Subject)
	require.Equal(t, "The invoice is wrong.", view.Messages[0].Body)

	require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailDuplicate, TicketID: b.TicketID, Reason: "ticket"},
		s.process(g, "12:2", second), "read again")
	require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailDuplicate, TicketID: a.TicketID, Reason: "ticket"},
		s.process(other, "13:1", first), "the first through the other gateway")
	require.Equal(t, activities.ProcessMailResult{Outcome: activities.MailDuplicate, TicketID: b.TicketID, Reason: "ticket"},
		s.process(other, "13:2", second), "the second through the other gateway")
	require.Equal(t, 2, s.tickets(s.cust.ID))
}

// TestProcessMailNULBytes: NUL characters in a mail's text, subject or
// sender name (PostgreSQL text can't hold them) are left out, so that the
// mail becomes a ticket or an incoming email rather than failing every
// poll for ever.
func TestProcessMailNULBytes(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	r := s.process(g, "14:1", mailMsg{from: "=?utf-8?q?Bob=00?= <" + s.bob.Email + ">", to: s.tech.Email, subject: "=?utf-8?q?a=00b?=",
		body:    base64.StdEncoding.EncodeToString([]byte("hello\x00world")),
		headers: []string{"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"}}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome)
	view, err := s.st.Ticket(s.ctx, r.TicketID)
	require.NoError(t, err)
	require.Equal(t, "ab", view.Subject)
	require.Equal(t, "helloworld", view.Messages[0].Body)

	stranger := "nul-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	r = s.process(g, "14:2", mailMsg{from: stranger, to: s.tech.Email, subject: "x", body: "one=00two",
		headers: []string{"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"}}.raw())
	require.Equal(t, activities.MailIncoming, r.Outcome)
}

// TestProcessMailWaitsForAConfirmation: a mail read while its sender's
// address is being confirmed waits for the confirmation (which holds the
// address's lock, as api's senderConfirmed does) and becomes the user's
// ticket, rather than an unknown sender's mail filed after the
// confirmation turned the waiting ones into tickets, stranded there.
func TestProcessMailWaitsForAConfirmation(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	addr := "late-" + strings.ToLower(rand.Text()[:8]) + "@example.org"
	u, err := s.st.CreateUser(s.ctx, s.cust.ID, billing.UserCreate{Login: "late" + strings.ToLower(rand.Text()[:8]), Email: addr,
		FirstName: "Late"}, "x")
	require.NoError(t, err)

	confirm, err := s.st.Pool().Begin(s.ctx)
	require.NoError(t, err)
	defer func() { _ = confirm.Rollback(s.ctx) }()
	_, err = confirm.Exec(s.ctx, `SELECT pg_advisory_xact_lock(hashtextextended('mail sender ' || lower($1::text), 0))`, addr)
	require.NoError(t, err)
	_, err = confirm.Exec(s.ctx, `UPDATE users SET email_verified = true WHERE id = $1`, u.ID)
	require.NoError(t, err)

	done := make(chan activities.ProcessMailResult, 1)
	go func() {
		r, err := s.acts.ProcessMail(s.ctx, activities.ProcessMailInput{Gateway: g, MailboxID: "15:1",
			Raw: mailMsg{from: addr, to: s.tech.Email, subject: "Now", body: "Written while confirming."}.raw()})
		assert.NoError(t, err)
		done <- r
	}()
	// The intake waits on the address's lock before it decides.
	for {
		var waiting bool
		require.NoError(t, s.st.Pool().QueryRow(s.ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
			AND NOT granted AND objid::bigint = (hashtextextended('mail sender ' || lower($1::text), 0) & 4294967295))`, addr).Scan(&waiting))
		if waiting {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling, not a timed assertion
	}
	require.NoError(t, confirm.Commit(s.ctx))
	r := <-done
	require.Equal(t, activities.MailTicket, r.Outcome, "%s: the confirmed user's mail", r.Reason)
}

// TestProcessMailHugeHeaders: a Message-ID longer than a header line can
// be is taken as none, and a sender address longer than a mailbox can be
// as no address (PostgreSQL's indexes refuse either), so the mail becomes a
// ticket or an incoming email rather than failing every poll for ever.
func TestProcessMailHugeHeaders(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	g := s.gateway(s.tech, s.tech.Email)
	var b strings.Builder
	for range 200 {
		b.WriteString(rand.Text()) // random: PostgreSQL can't compress it under the index's limit
	}
	huge := "<" + b.String() + "@x.example>"
	r := s.process(g, "16:1", mailMsg{from: s.bob.Email, to: s.tech.Email, subject: "Huge id", body: "x",
		headers: []string{"Message-ID: " + huge}}.raw())
	require.Equal(t, activities.MailTicket, r.Outcome)
	r = s.process(g, "16:2", mailMsg{from: "huge-" + strings.ToLower(rand.Text()[:8]) + "@example.org", to: s.tech.Email,
		subject: "Huge id", body: "x", headers: []string{"Message-ID: <b" + huge[1:]}}.raw())
	require.Equal(t, activities.MailIncoming, r.Outcome)
	r = s.process(g, "16:3", mailMsg{from: strings.ToLower(b.String()) + "@example.org", to: s.tech.Email, subject: "Huge sender",
		body: "x"}.raw())
	require.Equal(t, activities.MailIncoming, r.Outcome)
	require.Equal(t, billing.IncomingUnknownSender, r.Reason)
}
