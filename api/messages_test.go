package api_test

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
)

// messageWorld is a database of its own (a message to all customers must
// not reach other tests'), a worker on a task queue of its own that mails
// through an in-process SMTP server, and the API that starts workflows there.
type messageWorld struct {
	*bundle
	smtpd *smtptest.Server
	queue string
}

func newMessageWorld(t *testing.T, rate float64) *messageWorld {
	t.Helper()
	db := dbtest.OwnPool(t)
	// Message IDs name workflows on the package's one Temporal server: this
	// database's must not meet another's.
	_, err := db.Exec(t.Context(), fmt.Sprintf("ALTER TABLE messages ALTER COLUMN id RESTART WITH %d", 1_000_000+mrand.Int64N(1<<40)))
	require.NoError(t, err)
	smtpd, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = smtpd.Close() })
	mailer, err := mail.NewSMTP(smtpd.Addr, "", "", "none")
	require.NoError(t, err)
	queue := "messages-" + uniq()
	w := worker.New(temporalClient, queue, &activities.Activities{Store: store.New(db), Mail: mailer,
		SMS: &sms.Log{Path: filepath.Join(t.TempDir(), "sms.log")}, MailFrom: "billing@example.com",
		Log: slog.New(slog.DiscardHandler)}, worker.Options{})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	b := setupOn(t, db, func(o *api.Options) { o.TaskQueue, o.MessageRate = queue, rate })
	return &messageWorld{bundle: b, smtpd: smtpd, queue: queue}
}

// customer registers a customer of language with its main user and the
// extra users named, and returns its ID and its users' addresses.
func (w *messageWorld) customer(language string, extra ...string) (string, []string) {
	w.t.Helper()
	login := "c" + uniq()
	status, body := w.doJSON("POST", "/api/v1/customers", map[string]any{
		"account_type": "individual", "name": "Customer " + login, "country": "DE", "language": language,
		"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "Main", "language": language},
	})
	require.Equal(w.t, http.StatusCreated, status, "%v", body)
	id := jsonID(body["customer"])
	emails := []string{login + "@example.com"}
	for _, name := range extra {
		l := name + uniq()
		status, body := w.doJSON("POST", "/api/v1/customers/"+id+"/users", map[string]any{"login": l, "email": l + "@example.com", "first_name": name})
		require.Equal(w.t, http.StatusCreated, status, "%v", body)
		emails = append(emails, l+"@example.com")
	}
	return id, emails
}

// send posts a message and returns its ID.
func (w *messageWorld) send(msg map[string]any) string {
	w.t.Helper()
	status, body := w.doJSON("POST", "/api/v1/messages", msg)
	require.Equal(w.t, http.StatusAccepted, status, "%v", body)
	require.Equal(w.t, "sending", body["status"])
	return jsonString(body["id"])
}

// waitFinished waits until message id is no longer sending and returns it.
func (w *messageWorld) waitFinished(id string) map[string]any {
	w.t.Helper()
	var m map[string]any
	require.Eventually(w.t, func() bool {
		status, body := w.do("GET", "/api/v1/messages/"+id, "")
		require.Equal(w.t, http.StatusOK, status, "%v", body)
		m = body
		return body["status"] != "sending"
	}, time.Minute, 100*time.Millisecond, "message %s finishes", id)
	return m
}

// received lists who got a mail whose subject is subject, sorted.
func (w *messageWorld) received(subject string) []string {
	var out []string
	for _, m := range w.smtpd.Messages() {
		if m.Subject == subject {
			out = append(out, strings.Trim(m.To, "<>"))
		}
	}
	sort.Strings(out)
	return out
}

func sorted(s ...[]string) []string {
	var out []string
	for _, x := range s {
		out = append(out, x...)
	}
	sort.Strings(out)
	return out
}

// TestSendMessageToAll: a message to all customers reaches every user of
// every active customer once, in the message template of their language,
// with its attachments and a List-Unsubscribe header; a deleted customer
// gets nothing; each email is a row of the notification log about the
// message, which the customer's client sees too.
func TestSendMessageToAll(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 100)
	a, aMails := w.customer("en", "Second", "Third")
	_, bMails := w.customer("de")
	gone, _ := w.customer("en")
	status, _ := w.do("DELETE", "/api/v1/customers/"+gone, "")
	require.Equal(t, http.StatusOK, status)
	code, body := w.do("PUT", "/api/v1/message-templates/message/email/de", `{"subject": "[MESSAGE_SUBJECT]", "body": "Hallo [USER_NAME], [MESSAGE_TEXT]"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)

	file := []byte("Maintenance window: Saturday 02:00-04:00 UTC\n")
	id := w.send(map[string]any{"category": "maintenance", "subject": "Maintenance on Saturday", "text": "The panel is down for two hours.",
		"attachments": []map[string]any{{"name": "window.txt", "content": base64.StdEncoding.EncodeToString(file)}}})
	m := w.waitFinished(id)
	require.Equal(t, "done", m["status"])
	require.Equal(t, map[string]any{"total": 4.0, "sent": 4.0, "failed": 0.0, "pending": 0.0, "skipped": 0.0}, m["progress"])
	require.Equal(t, []any{map[string]any{"name": "window.txt", "content_type": "text/plain; charset=utf-8", "size": float64(len(file))}}, m["attachments"])
	require.Equal(t, "message-"+id, m["workflow_id"])

	require.Equal(t, sorted(aMails, bMails), w.received("Maintenance on Saturday"), "every user of every active customer, once")
	for _, msg := range w.smtpd.Messages() {
		if msg.Subject != "Maintenance on Saturday" {
			continue
		}
		require.Contains(t, msg.Body, `filename="window.txt"`, "the attachment")
		require.Contains(t, msg.Body, base64.StdEncoding.EncodeToString(file), "its content")
		require.NotEmpty(t, msg.Header.Get("List-Unsubscribe"))
		if msg.To == bMails[0] || strings.Contains(msg.To, bMails[0]) {
			require.Contains(t, msg.Body, "Hallo Main", "the German template for the German customer")
		} else {
			require.Contains(t, msg.Body, "The panel is down for two hours.")
		}
	}

	var rows int
	require.NoError(t, w.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM notices WHERE event = 'message'
		AND object_type = 'message' AND object_id = $1 AND status = 'sent'`, id).Scan(&rows))
	require.Equal(t, 4, rows, "one row of the log per recipient")

	aID, err := strconv.ParseInt(a, 10, 64)
	require.NoError(t, err)
	var userID int64
	require.NoError(t, w.store.Pool().QueryRow(t.Context(), `SELECT id FROM users WHERE customer_id = $1 AND main`, aID).Scan(&userID))
	client := w.session(store.Session{Kind: billing.ActorClient, UserID: userID, CustomerID: aID})
	code, body = w.doAs(client, "GET", "/api/v1/notifications?event=message", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Len(t, body["items"], 3, "a client sees their own customer's messages in the log")
	for _, n := range body["items"].([]any) {
		require.Equal(t, "message", n.(map[string]any)["object_type"])
		require.Equal(t, id, n.(map[string]any)["object_id"])
	}

	code, body = w.do("POST", "/api/v1/messages/"+id+"/cancel", "")
	require.Equal(t, http.StatusConflict, code, "a message that is done can't be cancelled: %v", body)
	code, body = w.do("GET", "/api/v1/messages?status=done", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1.0, body["total"])
}

// TestSendMessageFilters: "only customers of this language" keeps a
// message to customers of that language (a customer of another language
// gets nothing), and a message to one customer reaches all its users and
// no one else.
func TestSendMessageFilters(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 100)
	a, aMails := w.customer("en", "Second")
	_, bMails := w.customer("de", "Zweiter")
	_, cMails := w.customer("de")

	id := w.send(map[string]any{"category": "info", "language": "de", "subject": "Nur Deutsch", "text": "Hallo"})
	m := w.waitFinished(id)
	require.Equal(t, "done", m["status"])
	require.Equal(t, 3.0, m["progress"].(map[string]any)["sent"])
	require.Equal(t, sorted(bMails, cMails), w.received("Nur Deutsch"), "customers of German only")

	aID, _ := strconv.Atoi(a)
	id = w.send(map[string]any{"category": "billing", "customer_id": aID, "subject": "Just for A", "text": "Hello A"})
	m = w.waitFinished(id)
	require.Equal(t, 2.0, m["progress"].(map[string]any)["total"])
	require.Equal(t, sorted(aMails), w.received("Just for A"), "all users of the one customer")

	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"category": "spam", "subject": "x", "text": "y"}`, 422},
		{`{"category": "info", "subject": "x", "text": "y", "attachments": [{"name": "a", "content": "not base64!"}]}`, 422}, // naming attachments[0].content
		{`{"category": "info", "subject": "x", "text": "y", "customer_id": 999999999}`, 404},
		{`{"category": "info", "subject": "x", "text": "y", "rate": 1000}`, 422},
	} {
		code, body := w.do("POST", "/api/v1/messages", tc.body)
		require.Equal(t, tc.status, code, "%s: %v", tc.body, body)
	}
}

// TestCancelMessage: a cancel stops the sending after the batch in flight:
// the message ends cancelled, the users it did not reach are skipped, and
// no email goes out after it.
func TestCancelMessage(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 1) // a batch is 5 emails, 1 a second
	var all []string
	for range 4 {
		_, mails := w.customer("en", "Second", "Third")
		all = append(all, mails...)
	}
	id := w.send(map[string]any{"category": "promo", "subject": "Slow news", "text": "Twelve users, one a second"})
	require.Eventually(t, func() bool { return len(w.received("Slow news")) >= 1 }, 30*time.Second, 50*time.Millisecond)
	code, body := w.do("POST", "/api/v1/messages/"+id+"/cancel", "")
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	m := w.waitFinished(id)
	require.Equal(t, "cancelled", m["status"])
	p := m["progress"].(map[string]any)
	require.Equal(t, 12.0, p["total"])
	require.Less(t, p["sent"].(float64), 12.0)
	require.Equal(t, 12.0, p["sent"].(float64)+p["skipped"].(float64), "every user is sent or skipped")
	time.Sleep(2 * time.Second)
	require.Len(t, w.received("Slow news"), int(p["sent"].(float64)), "nothing is sent after the cancel")
	require.Subset(t, all, w.received("Slow news"))
}

// TestMessageTexts: staff with notices.write keep saved message texts
// (create, replace, delete), staff with subscriptions.read read them, a
// client reads none; names are unique (409 naming name), and invalid fields
// answer 422 naming each.
func TestMessageTexts(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t))
	code, body := b.do("POST", "/api/v1/message-texts", `{"name": "Maintenance", "category": "maintenance",
		"subject": "Maintenance on Saturday", "text": "The panel is down for two hours."}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	id := jsonString(body["id"])
	require.Equal(t, "Maintenance", body["name"])
	require.Equal(t, "maintenance", body["category"])
	require.Equal(t, "Maintenance on Saturday", body["subject"])
	require.Equal(t, "The panel is down for two hours.", body["text"])
	code, body = b.do("POST", "/api/v1/message-texts", `{"name": "Invoices", "category": "billing", "subject": "New invoices", "text": "See the panel."}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	other := jsonString(body["id"])

	code, body = b.do("GET", "/api/v1/message-texts/"+id, "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "Maintenance", body["name"])
	code, body = b.do("GET", "/api/v1/message-texts", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, 2.0, body["total"])
	require.Equal(t, "Invoices", body["items"].([]any)[0].(map[string]any)["name"], "by name")
	code, body = b.do("GET", "/api/v1/message-texts?category=billing", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, 1.0, body["total"])
	code, _ = b.do("GET", "/api/v1/message-texts?category=spam", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)

	code, body = b.do("PUT", "/api/v1/message-texts/"+id, `{"name": "Maintenance (night)", "category": "maintenance",
		"subject": "Maintenance tonight", "text": "The panel is down from 2 to 4."}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "Maintenance tonight", body["subject"])
	code, body = b.do("GET", "/api/v1/message-texts/"+id, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "Maintenance (night)", body["name"])
	require.Equal(t, "The panel is down from 2 to 4.", body["text"])

	// A name another saved text has: 409 naming name, on create and replace.
	for _, req := range [][2]string{{"POST", "/api/v1/message-texts"}, {"PUT", "/api/v1/message-texts/" + id}} {
		code, body = b.do(req[0], req[1], `{"name": "Invoices", "category": "info", "subject": "x", "text": "y"}`)
		require.Equal(t, http.StatusConflict, code, "%s: %v", req[0], body)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, "name")
	}

	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{"name": "", "category": "spam", "subject": " ", "text": ""}`, []string{"name", "category", "subject", "text"}},
		{`{"name": "Long", "category": "info", "subject": "` + strings.Repeat("s", 201) + `", "text": "` + strings.Repeat("t", 20001) + `"}`, []string{"subject", "text"}},
		{`{"name": "` + strings.Repeat("n", 101) + `", "category": "info", "subject": "x", "text": "y"}`, []string{"name"}},
		{`{"name": "Extra", "category": "info", "subject": "x", "text": "y", "attachments": []}`, []string{"attachments"}},
	} {
		code, body := b.do("POST", "/api/v1/message-texts", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%.200s: %v", tc.body, body)
		_, _, fields := errorOf(t, body)
		for _, f := range tc.fields {
			require.Contains(t, fields, f, "%.200s", tc.body)
		}
		code, _ = b.do("PUT", "/api/v1/message-texts/"+id, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%.200s", tc.body)
	}

	// Reading takes subscriptions.read, writing notices.write; a client gets neither.
	cid, _ := b.newCustomer()
	custID, err := strconv.ParseInt(cid, 10, 64)
	require.NoError(t, err)
	var userID int64
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT id FROM users WHERE customer_id = $1 AND main`, custID).Scan(&userID))
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: userID, CustomerID: custID})
	reader := b.staffSession(billing.RoleStaff, billing.PermSubsRead)
	writer := b.staffSession(billing.RoleStaff, billing.PermNoticesWrite)
	for _, tc := range []struct {
		token, method, path, body string
		status                    int
	}{
		{client, "GET", "/api/v1/message-texts", "", http.StatusForbidden},
		{client, "GET", "/api/v1/message-texts/" + id, "", http.StatusForbidden},
		{client, "POST", "/api/v1/message-texts", `{"name": "Client", "category": "info", "subject": "x", "text": "y"}`, http.StatusForbidden},
		{client, "DELETE", "/api/v1/message-texts/" + id, "", http.StatusForbidden},
		{reader, "GET", "/api/v1/message-texts/" + id, "", http.StatusOK},
		{reader, "PUT", "/api/v1/message-texts/" + id, `{"name": "Reader", "category": "info", "subject": "x", "text": "y"}`, http.StatusForbidden},
		{writer, "GET", "/api/v1/message-texts", "", http.StatusForbidden},
		{writer, "POST", "/api/v1/message-texts", `{"name": "Writer", "category": "promo", "subject": "x", "text": "y"}`, http.StatusCreated},
	} {
		code, body := b.doAs(tc.token, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, code, "%s %s: %v", tc.method, tc.path, body)
	}

	code, _ = b.do("DELETE", "/api/v1/message-texts/"+other, "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = b.do("DELETE", "/api/v1/message-texts/"+other, "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = b.do("GET", "/api/v1/message-texts/"+other, "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = b.do("PUT", "/api/v1/message-texts/"+other, `{"name": "Gone", "category": "info", "subject": "x", "text": "y"}`)
	require.Equal(t, http.StatusNotFound, code)
}

// TestSendMessageFromText: a message sent with text_id reaches the users
// with the saved text's subject and text and is of its category; a subject
// typed alongside overrides the saved one; the message records the text
// (text_id), null once the text is deleted; an unknown text_id is a 422
// naming text_id.
func TestSendMessageFromText(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 100)
	a, aMails := w.customer("en", "Second")
	aID, _ := strconv.Atoi(a)
	code, body := w.do("POST", "/api/v1/message-texts", `{"name": "Maintenance", "category": "maintenance",
		"subject": "Saved subject", "text": "The saved text of the message."}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	textID := jsonString(body["id"])
	tid, _ := strconv.Atoi(textID)

	code, body = w.doJSON("POST", "/api/v1/messages", map[string]any{"text_id": tid, "customer_id": aID})
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	require.Equal(t, "maintenance", body["category"])
	require.Equal(t, "Saved subject", body["subject"])
	require.Equal(t, "The saved text of the message.", body["text"])
	require.Equal(t, float64(tid), body["text_id"])
	id := jsonString(body["id"])
	require.Equal(t, "done", w.waitFinished(id)["status"])
	require.Equal(t, sorted(aMails), w.received("Saved subject"))
	for _, msg := range w.smtpd.Messages() {
		if msg.Subject == "Saved subject" {
			require.Contains(t, msg.Body, "The saved text of the message.")
		}
	}

	// What is typed alongside overrides the saved text; the rest comes from it.
	code, body = w.doJSON("POST", "/api/v1/messages", map[string]any{"text_id": tid, "customer_id": aID,
		"subject": "Typed subject", "category": "info"})
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	require.Equal(t, "info", body["category"])
	require.Equal(t, "The saved text of the message.", body["text"])
	over := jsonString(body["id"])
	require.Equal(t, "done", w.waitFinished(over)["status"])
	require.Equal(t, sorted(aMails), w.received("Typed subject"))
	for _, msg := range w.smtpd.Messages() {
		if msg.Subject == "Typed subject" {
			require.Contains(t, msg.Body, "The saved text of the message.")
		}
	}

	// A typed message records no text.
	id2 := w.send(map[string]any{"category": "info", "customer_id": aID, "subject": "Typed", "text": "Typed text"})
	m := w.waitFinished(id2)
	require.Contains(t, m, "text_id")
	require.Nil(t, m["text_id"])

	for _, body := range []string{`{"text_id": 999999999}`, `{"text_id": 999999999, "category": "info", "subject": "x", "text": "y"}`, `{"text_id": 0}`} {
		code, out := w.do("POST", "/api/v1/messages", body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", body, out)
		_, _, fields := errorOf(t, out)
		require.Contains(t, fields, "text_id", body)
	}
	code, out := w.do("POST", "/api/v1/messages", `{"customer_id": 1}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "without text_id, category, subject and text are required: %v", out)
	_, _, fields := errorOf(t, out)
	require.Contains(t, fields, "subject")
	require.Contains(t, fields, "text")
	require.Contains(t, fields, "category")

	// Deleting the text keeps the messages sent from it, without text_id.
	code, _ = w.do("DELETE", "/api/v1/message-texts/"+textID, "")
	require.Equal(t, http.StatusNoContent, code)
	code, body = w.do("GET", "/api/v1/messages/"+id, "")
	require.Equal(t, http.StatusOK, code)
	require.Nil(t, body["text_id"])
	require.Equal(t, "Saved subject", body["subject"])
}
