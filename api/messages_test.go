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
		{`{"category": "info", "subject": "x", "text": "y", "attachments": [{"name": "a", "content": "not base64!"}]}`, 400},
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
