package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/store"
)

// incomingMail is a mail from Ann (an unknown sender) with a text and a
// PDF attachment, as a gateway keeps it.
func incomingMail(from, messageID string) string {
	return strings.ReplaceAll(`From: Ann Sender <`+from+`>
To: support@provider.example
Subject: My server is down
Message-ID: <`+messageID+`>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Hello, the server answers no ping since this morning.
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCg==
--b1--
`, "\n", "\r\n")
}

// insertIncoming files a mail under Incoming emails of department dept, as
// the gateway's intake does (its gateway row too: any password bytes do).
// raw "" keeps no raw mail.
func insertIncoming(t *testing.T, st *store.Store, dept int64, from, reason, raw string) int64 {
	t.Helper()
	ctx := t.Context()
	var gw, id int64
	require.NoError(t, st.Pool().QueryRow(ctx, `INSERT INTO mail_gateways (name, type, protocol, host, port, security, login,
		password_nonce, password_sealed, address, department_id) VALUES ('GW', 'external', 'imap', 'imap.example', 993, 'implicit',
		'support', '\x00'::bytea, '\x00'::bytea, 'support@provider.example', $1) RETURNING id`, dept).Scan(&gw))
	var rawBytes []byte
	var messageID *string
	if raw != "" {
		rawBytes = []byte(raw)
		if m := regexp.MustCompile(`Message-ID: (<\S+>)`).FindStringSubmatch(raw); m != nil {
			messageID = &m[1]
		}
	}
	require.NoError(t, st.Pool().QueryRow(ctx, `INSERT INTO incoming_emails (gateway_id, department_id, from_address, from_name,
		subject, body, message_id, reason, raw) VALUES ($1, $2, $3, 'Ann Sender', 'My server is down', 'Hello (stored text)', $4, $5, $6)
		RETURNING id`, gw, dept, from, messageID, reason, rawBytes).Scan(&id))
	return id
}

// TestIncomingEmailsScopedToDepartments: John sees, reads and handles only
// the incoming emails of technical support; another department's answers
// 404 as if it did not exist; an admin sees all; the filters work.
func TestIncomingEmailsScopedToDepartments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	from := "ann" + uniq() + "@mail.example"
	tech := insertIncoming(t, b.store, team.technical.ID, from, billing.IncomingUnknownSender, incomingMail(from, uniq()+"@mail.example"))
	sales := insertIncoming(t, b.store, team.sales.ID, from, billing.IncomingNotUnique, "")

	code, body := b.doAs(team.johnToken, "GET", "/api/v1/incoming-emails?limit=200", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, []string{fmt.Sprint(tech)}, taskIDs(t, body), "John's department only")
	code, body = b.doAs(team.garyToken, "GET", fmt.Sprintf("/api/v1/incoming-emails?department_id=%d&reason=not_unique", team.sales.ID), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, []string{fmt.Sprint(sales)}, taskIDs(t, body))
	code, body = b.doAs(team.garyToken, "GET", fmt.Sprintf("/api/v1/incoming-emails?department_id=%d&status=ticket", team.sales.ID), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Empty(t, taskIDs(t, body))
	code, body = b.do("GET", "/api/v1/incoming-emails?status=new&limit=200", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Contains(t, taskIDs(t, body), fmt.Sprint(sales), "an admin sees every department's")
	require.Contains(t, taskIDs(t, body), fmt.Sprint(tech))
	code, body = b.do("GET", "/api/v1/incoming-emails?status=lost&reason=x", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "status")
	require.Contains(t, fields, "reason")

	for _, r := range []struct{ method, path, body string }{
		{"GET", fmt.Sprint("/api/v1/incoming-emails/", sales), ""},
		{"GET", fmt.Sprint("/api/v1/incoming-emails/", sales, "/raw"), ""},
		{"POST", fmt.Sprint("/api/v1/incoming-emails/", sales, "/discard"), ""},
		{"POST", fmt.Sprint("/api/v1/incoming-emails/", sales, "/ticket"), `{"customer_id": 1}`},
	} {
		code, body := b.doAs(team.johnToken, r.method, r.path, r.body)
		require.Equal(t, http.StatusNotFound, code, "%s %s: %v", r.method, r.path, body)
	}
	code, body = b.doAs(team.johnToken, "GET", fmt.Sprint("/api/v1/incoming-emails/", tech), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "Hello (stored text)", body["body"])
	require.Equal(t, true, body["has_raw"])
	require.NotContains(t, body, "raw")

	res, raw := b.send(team.johnToken, "GET", fmt.Sprint("/api/v1/incoming-emails/", tech, "/raw"), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "message/rfc822", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="incoming-email-`))
	require.Contains(t, string(raw), "the server answers no ping")
	code, body = b.do("GET", fmt.Sprint("/api/v1/incoming-emails/", sales, "/raw"), "")
	require.Equal(t, http.StatusNotFound, code, "no raw mail kept: %v", body)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "not kept")
}

// TestIncomingEmailToTicket: staff turn an incoming email into a ticket of
// the customer they choose: the mail's text (read from the raw mail),
// sender, Message-ID and attachment, from the named user, in a department
// that requires incidents without using one (staff open it), with the
// email marked handled, and the department's other members told. Doing it again, or discarding it then, is 409.
// Refused requests change nothing.
func TestIncomingEmailToTicket(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	yes := true
	_, err := b.store.UpdateDepartment(t.Context(), team.technical.ID, billing.DepartmentInput{RequiresIncidents: &yes})
	require.NoError(t, err)
	cust, login := b.newCustomer()
	code, body := b.do("GET", "/api/v1/customers/"+cust+"/users", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	userID := jsonID(body["items"].([]any)[0])
	other, _ := b.newCustomer()
	from := login + "-private@mail.example"
	mid := uniq() + "@mail.example"
	id := insertIncoming(t, b.store, team.technical.ID, from, billing.IncomingUnknownSender, incomingMail(from, mid))
	path := fmt.Sprint("/api/v1/incoming-emails/", id)

	for _, r := range []struct {
		token, body string
		status      int
		field       string
	}{
		{team.johnToken, `{}`, http.StatusUnprocessableEntity, "customer_id"},
		{team.johnToken, `{"customer_id": 999999999}`, http.StatusUnprocessableEntity, "customer_id"},
		{team.johnToken, fmt.Sprintf(`{"customer_id": %s, "user_id": %s}`, other, userID), http.StatusUnprocessableEntity, "user_id"},
		{team.johnToken, fmt.Sprintf(`{"customer_id": %s, "department_id": %d}`, cust, team.sales.ID), http.StatusForbidden, "department_id"},
	} {
		code, body := b.doAs(r.token, "POST", path+"/ticket", r.body)
		require.Equal(t, r.status, code, "%s: %v", r.body, body)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, r.field, "%v", body)
	}
	code, body = b.do("GET", path, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, billing.IncomingNew, body["status"], "the refusals changed nothing")

	code, body = b.doAs(team.johnToken, "POST", path+"/ticket", fmt.Sprintf(`{"customer_id": %s, "user_id": %s}`, cust, userID))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	ticket := body
	require.Equal(t, "My server is down", ticket["subject"])
	require.Equal(t, billing.SourceEmail, ticket["source"])
	require.Equal(t, float64(team.technical.ID), ticket["department_id"], "the email's department by default")
	require.Equal(t, float64(team.john.ID), ticket["opened_by_staff_id"])
	msg := body["messages"].([]any)[0].(map[string]any)
	require.Equal(t, billing.MessageFromClient, msg["kind"])
	require.Equal(t, "Hello, the server answers no ping since this morning.", msg["body"], "the text of the raw mail")
	require.Equal(t, from, msg["author_email"], "the sender, not the user's address")
	require.Equal(t, "Ann Sender", msg["author_name"])
	require.Equal(t, userID, strings.TrimSuffix(fmt.Sprint(msg["author_user_id"]), ".0"))
	require.Equal(t, "<"+mid+">", msg["mail_message_id"])
	files := msg["attachments"].([]any)
	require.Len(t, files, 1)
	require.Equal(t, "report.pdf", files[0].(map[string]any)["name"])
	ticketID := jsonID(ticket)

	var told []string
	rows, err := b.store.Pool().Query(t.Context(), `SELECT recipient FROM notices WHERE event = 'ticket_assigned'
		AND object_type = 'ticket' AND object_id = $1`, ticketID)
	require.NoError(t, err)
	for rows.Next() {
		var r string
		require.NoError(t, rows.Scan(&r))
		told = append(told, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{team.gary.Email}, told, "the department's other member is told of the new ticket, not John who made it")

	var used int
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM support_incidents WHERE customer_id = $1 AND reason = 'ticket'`,
		cust).Scan(&used))
	require.Zero(t, used, "staff opening a ticket use no incident")

	code, body = b.do("GET", path, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, billing.IncomingTicket, body["status"])
	require.Equal(t, ticketID, strings.TrimSuffix(fmt.Sprint(body["ticket_id"]), ".0"))
	require.Equal(t, cust, strings.TrimSuffix(fmt.Sprint(body["customer_id"]), ".0"))
	require.Equal(t, float64(team.john.ID), body["handled_by"])
	require.NotNil(t, body["handled_at"])

	code, body = b.doAs(team.garyToken, "POST", path+"/ticket", fmt.Sprintf(`{"customer_id": %s}`, cust))
	require.Equal(t, http.StatusConflict, code, "%v", body)
	code, body = b.doAs(team.garyToken, "POST", path+"/discard", "")
	require.Equal(t, http.StatusConflict, code, "%v", body)

	// Discarding another one.
	second := insertIncoming(t, b.store, team.technical.ID, from, billing.IncomingMalformed, "")
	code, body = b.doAs(team.garyToken, "POST", fmt.Sprint("/api/v1/incoming-emails/", second, "/discard"), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, billing.IncomingDiscarded, body["status"])
	require.Equal(t, float64(team.gary.ID), body["handled_by"])
	require.Nil(t, body["ticket_id"])
	code, body = b.doAs(team.garyToken, "POST", fmt.Sprint("/api/v1/incoming-emails/", second, "/ticket"), fmt.Sprintf(`{"customer_id": %s}`, cust))
	require.Equal(t, http.StatusConflict, code, "%v", body)
}

// TestIncomingEmailToTicketAtOnce: two staff members turning the same email
// into a ticket at once make one ticket; the other is told 409.
func TestIncomingEmailToTicketAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	cust, _ := b.newCustomer()
	for range 3 {
		from := "ann" + uniq() + "@mail.example"
		id := insertIncoming(t, b.store, team.technical.ID, from, billing.IncomingUnknownSender, incomingMail(from, uniq()+"@mail.example"))
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i, token := range []string{team.johnToken, team.garyToken} {
			wg.Go(func() {
				codes[i], _ = b.doAs(token, "POST", fmt.Sprint("/api/v1/incoming-emails/", id, "/ticket"), `{"customer_id": `+cust+`}`)
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, codes)
		var n int
		require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
			WHERE m.author_email = $1`, from).Scan(&n))
		require.Equal(t, 1, n, "one ticket")
	}
}

// TestConfirmedSenderMailsBecomeTickets: an unknown sender's waiting mails
// become tickets of their departments for the customer they register, when
// they confirm the address with the activation link from the mail: a
// department requiring incidents the customer has none of leaves its mail
// waiting; the sender's mails of other reasons, handled ones and other
// senders' stay as they were; email_confirmed is queued to the address.
func TestConfirmedSenderMailsBecomeTickets(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true}`)
	var seen []api.MailNotice
	var mu sync.Mutex
	api.WatchMailNotices(a.api, func(n api.MailNotice) { mu.Lock(); seen = append(seen, n); mu.Unlock() })
	ctx := t.Context()
	names := []string{"Tech " + uniq(), "Paid " + uniq()}
	tech, err := a.store.CreateDepartment(ctx, billing.DepartmentInput{Name: &names[0]})
	require.NoError(t, err)
	yes := true
	paid, err := a.store.CreateDepartment(ctx, billing.DepartmentInput{Name: &names[1], RequiresIncidents: &yes})
	require.NoError(t, err)
	login := "s" + uniq()
	from := login + "@example.com"
	first := insertIncoming(t, a.store, tech.ID, strings.ToUpper(from), billing.IncomingUnknownSender, incomingMail(from, uniq()+"@mail.example"))
	second := insertIncoming(t, a.store, tech.ID, from, billing.IncomingUnknownSender, "")
	refused := insertIncoming(t, a.store, paid.ID, from, billing.IncomingUnknownSender, "")
	malformed := insertIncoming(t, a.store, tech.ID, from, billing.IncomingMalformed, "")
	discarded := insertIncoming(t, a.store, tech.ID, from, billing.IncomingUnknownSender, "")
	code, body := a.do("POST", fmt.Sprint("/api/v1/incoming-emails/", discarded, "/discard"), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	otherSender := insertIncoming(t, a.store, tech.ID, "x"+from, billing.IncomingUnknownSender, "")

	code, body = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	cust := jsonID(body["customer"])
	status := func(id int64) (string, string) {
		code, body := a.do("GET", fmt.Sprint("/api/v1/incoming-emails/", id), "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		return body["status"].(string), strings.TrimSuffix(fmt.Sprint(body["ticket_id"]), ".0")
	}
	s, _ := status(first)
	require.Equal(t, billing.IncomingNew, s, "registering confirms nothing yet")

	mails := a.deliver(from)
	require.Len(t, mails, 1)
	token := linkToken(t, text(t, mails[0]), "/activate")
	code, body = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": token}))
	require.Equal(t, http.StatusNoContent, code, "%v", body)

	code, body = a.do("GET", "/api/v1/tickets?customer_id="+cust, "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Len(t, body["items"], 2, "%v", body)
	for _, id := range []int64{first, second} {
		s, ticket := status(id)
		require.Equal(t, billing.IncomingTicket, s)
		code, body := a.do("GET", "/api/v1/tickets/"+ticket, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.Equal(t, cust, strings.TrimSuffix(fmt.Sprint(body["customer_id"]), ".0"))
		require.Equal(t, float64(tech.ID), body["department_id"])
		require.Nil(t, body["opened_by_staff_id"])
		m := body["messages"].([]any)[0].(map[string]any)
		require.NotNil(t, m["author_user_id"], "from the new user")
	}
	for id, want := range map[int64]string{refused: billing.IncomingNew, malformed: billing.IncomingNew,
		discarded: billing.IncomingDiscarded, otherSender: billing.IncomingNew} {
		s, _ := status(id)
		require.Equal(t, want, s, "incoming email %d", id)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []api.MailNotice{{Event: "email_confirmed", To: from, Key: fmt.Sprint(first),
		Vars: map[string]string{"[EMAIL]": from, "[TICKETS]": seen[0].Vars["[TICKETS]"]}}}, seen)
	require.Regexp(t, `^#\d+, #\d+$`, seen[0].Vars["[TICKETS]"])
}

// TestConfirmedSenderNothingBecameTicket: when none of a confirming
// sender's waiting mails could become a ticket (each in a department
// requiring an incident the customer has none of), the mail waits for
// staff and no email_confirmed says "now tickets:" with no ticket.
func TestConfirmedSenderNothingBecameTicket(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true}`)
	var seen []api.MailNotice
	var mu sync.Mutex
	api.WatchMailNotices(a.api, func(n api.MailNotice) { mu.Lock(); seen = append(seen, n); mu.Unlock() })
	name := "Paid " + uniq()
	yes := true
	paid, err := a.store.CreateDepartment(t.Context(), billing.DepartmentInput{Name: &name, RequiresIncidents: &yes})
	require.NoError(t, err)
	login := "s" + uniq()
	from := login + "@example.com"
	refused := insertIncoming(t, a.store, paid.ID, from, billing.IncomingUnknownSender, "")

	code, body := a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	mails := a.deliver(from)
	require.Len(t, mails, 1)
	code, body = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": linkToken(t, text(t, mails[0]), "/activate")}))
	require.Equal(t, http.StatusNoContent, code, "%v", body)

	code, body = a.do("GET", fmt.Sprint("/api/v1/incoming-emails/", refused), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, billing.IncomingNew, body["status"])
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, seen, "no mail became a ticket: nothing to announce")
}
