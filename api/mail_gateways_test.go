package api_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dovecottest"
	"github.com/tempobill/billing/mailgateway/fetch"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/workflows"
)

// gatewayKey is the MAIL_GATEWAY_KEY of the package's worker and of the
// APIs that withGatewayKey sets up.
var gatewayKey = func() *secret.Key {
	k, _, err := secret.NewKey()
	if err != nil {
		panic(err)
	}
	return k
}()

func withGatewayKey(o *api.Options) { o.MailGatewayKey = gatewayKey }

// closedPort is a port of 127.0.0.1 that nothing listens on.
func closedPort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// closedGateway is a paused IMAP gateway whose server is a closed port.
func closedGateway(departmentID int64, name string) billing.MailGatewayInput {
	yes := true
	return billing.MailGatewayInput{Name: &name, Protocol: ptr("imap"), Host: ptr("127.0.0.1"), Port: ptr(closedPort()),
		Login: ptr("gw"), Password: ptr("pw"), Address: ptr("gw@example.com"), DepartmentID: &departmentID, Paused: &yes}
}

func ptr[T any](v T) *T { return &v }

// gateway creates a gateway in the store (no schedule).
func (b *bundle) gateway(in billing.MailGatewayInput) billing.MailGateway {
	b.t.Helper()
	g, err := b.store.CreateMailGateway(b.t.Context(), in, gatewayKey)
	require.NoError(b.t, err)
	return g
}

// dovecotGateway is the body of a gateway reading s's plain (local, no TLS) listener.
func dovecotGateway(s *dovecottest.Server, protocol string, departmentID int64, extra string) string {
	addr := s.IMAP
	if protocol == "pop3" {
		addr = s.POP3
	}
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`{"name": "Dovecot %s", "type": "local", "protocol": %q, "host": "127.0.0.1", "port": %s,
		"security": "none", "login": %q, "password": %q, "address": "gw@example.com", "department_id": %d%s}`,
		uniq(), protocol, port, dovecottest.User, dovecottest.Password, departmentID, extra)
}

// TestMailGatewayValidation: every wrong setting is a field error, in one
// answer, and nothing is stored.
func TestMailGatewayValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, withGatewayKey)
	name := "Bad " + uniq()
	status, body := b.do("POST", "/api/v1/mail-gateways", `{"name": "`+name+`", "type": "cloud", "protocol": "smtp", "host": "",
		"port": 0, "security": "ssl", "login": " ", "address": "nobody", "department_id": 0, "poll_seconds": 10,
		"after_processing": "archive", "max_message_bytes": 10}`)
	require.Equal(t, 422, status, "%v", body)
	fields := body["error"].(map[string]any)["fields"].(map[string]any)
	for _, f := range []string{"type", "protocol", "host", "port", "security", "login", "password", "address", "department_id",
		"poll_seconds", "after_processing", "max_message_bytes"} {
		require.Contains(t, fields, f)
	}
	// security none only for a local gateway; a department that doesn't exist.
	status, body = b.do("POST", "/api/v1/mail-gateways", `{"name": "`+name+`", "protocol": "imap", "host": "mail.example.com",
		"port": 143, "security": "none", "login": "l", "password": "p", "address": "gw@example.com", "department_id": 1}`)
	require.Equal(t, 422, status, "%v", body)
	fields = body["error"].(map[string]any)["fields"].(map[string]any)
	require.Contains(t, fields["security"], "local")
	d := b.department("GW", nil)
	status, body = b.do("POST", "/api/v1/mail-gateways", `{"name": "`+name+`", "protocol": "imap", "host": "mail.example.com",
		"port": 993, "login": "l", "password": "p", "address": "gw@example.com", "department_id": 999999999}`)
	require.Equal(t, 422, status, "%v", body)
	require.Equal(t, "is not a department", body["error"].(map[string]any)["fields"].(map[string]any)["department_id"])
	_, list := b.do("GET", "/api/v1/mail-gateways", "")
	require.NotContains(t, mustJSON(list), name, "a refused gateway is not stored")

	// Defaults, and POP3 + mark_read says that it deletes.
	status, body = b.do("POST", "/api/v1/mail-gateways", `{"name": "`+name+`", "protocol": "pop3", "host": "mail.example.com",
		"port": 995, "login": "l", "password": "p", "address": "gw@example.com", "department_id": `+fmt.Sprint(d)+`, "paused": true}`)
	require.Equal(t, 201, status, "%v", body)
	require.Equal(t, "external", body["type"])
	require.Equal(t, "implicit", body["security"])
	require.EqualValues(t, 300, body["poll_seconds"])
	require.Equal(t, "mark_read", body["after_processing"])
	require.Equal(t, billing.POP3NoReadFlag, body["note"])
	// A PATCH with an invalid value changes nothing.
	id := jsonID(body)
	status, _ = b.do("PATCH", "/api/v1/mail-gateways/"+id, `{"poll_seconds": 29, "name": "Changed"}`)
	require.Equal(t, 422, status)
	_, got := b.do("GET", "/api/v1/mail-gateways/"+id, "")
	require.Equal(t, name, got["name"])
	// The department of a gateway can't be deleted under it.
	status, body = b.do("DELETE", fmt.Sprint("/api/v1/departments/", d), "")
	require.Equal(t, 409, status, "%v", body)
	require.Contains(t, mustJSON(body), "mail gateways")
}

// TestMailGatewayPasswordNeverShown: the password is in no answer and in
// no audit entry, and the database holds it sealed only; a PATCH without
// it keeps it (the connection test still logs in).
func TestMailGatewayPasswordNeverShown(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	b := setup(t, withGatewayKey)
	d := b.department("GW", nil)
	var answers []string
	status, body := b.do("POST", "/api/v1/mail-gateways", dovecotGateway(s, "imap", d, `, "paused": true`))
	require.Equal(t, 201, status, "%v", body)
	answers = append(answers, mustJSON(body))
	id := jsonID(body)
	for _, req := range [][2]string{{"GET", ""}, {"PATCH", `{"name": "Renamed ` + uniq() + `"}`}, {"POST", ""}} {
		path := "/api/v1/mail-gateways/" + id
		if req[0] == "POST" {
			path += "/test"
		}
		status, body := b.do(req[0], path, req[1])
		require.Equal(t, 200, status, "%v", body)
		answers = append(answers, mustJSON(body))
		if req[0] == "POST" {
			require.Equal(t, true, body["ok"], "the stored password, kept by the PATCH, logs in: %v", body)
		}
	}
	_, list := b.do("GET", "/api/v1/mail-gateways", "")
	answers = append(answers, mustJSON(list))
	_, audit := b.do("GET", "/api/v1/audit?object_type=mail_gateway&object_id="+id+"&limit=100", "")
	require.NotEmpty(t, audit["items"], "the writes are audited")
	answers = append(answers, mustJSON(audit))
	for _, a := range answers {
		require.NotContains(t, a, dovecottest.Password)
		require.NotContains(t, a, `"password"`)
	}
	var sealed []byte
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT password_sealed FROM mail_gateways WHERE id = $1`, id).Scan(&sealed))
	require.NotContains(t, string(sealed), dovecottest.Password)

	// A new password replaces it: the wrong one now fails the test.
	status, body = b.do("PATCH", "/api/v1/mail-gateways/"+id, `{"password": "wrong-password"}`)
	require.Equal(t, 200, status, "%v", body)
	_, body = b.do("POST", "/api/v1/mail-gateways/"+id+"/test", "")
	require.Equal(t, false, body["ok"])
}

// TestMailGatewayWithoutKey: without MAIL_GATEWAY_KEY a gateway is refused
// with an answer that says what to set.
func TestMailGatewayWithoutKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.department("GW", nil)
	status, body := b.do("POST", "/api/v1/mail-gateways", fmt.Sprintf(`{"name": "NoKey %s", "protocol": "imap", "host": "mail.example.com",
		"port": 993, "login": "l", "password": "p", "address": "gw@example.com", "department_id": %d}`, uniq(), d))
	require.Equal(t, 503, status, "%v", body)
	require.Contains(t, mustJSON(body), "MAIL_GATEWAY_KEY")
}

// TestMailGatewayTestConnection: against Dovecot, IMAP and POP3, the right
// password is ok and a wrong one (given in the body, not stored) answers
// the server's own words.
func TestMailGatewayTestConnection(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	b := setup(t, withGatewayKey)
	d := b.department("GW", nil)
	for _, proto := range []string{"imap", "pop3"} {
		status, body := b.do("POST", "/api/v1/mail-gateways", dovecotGateway(s, proto, d, `, "paused": true`))
		require.Equal(t, 201, status, "%v", body)
		id := jsonID(body)
		_, body = b.do("POST", "/api/v1/mail-gateways/"+id+"/test", "")
		require.Equal(t, map[string]any{"ok": true}, body, proto)
		status, body = b.do("POST", "/api/v1/mail-gateways/"+id+"/test", `{"password": "not-the-password"}`)
		require.Equal(t, 200, status)
		require.Equal(t, false, body["ok"], proto)
		require.Contains(t, body["error"], "Authentication failed", "Dovecot's own words (%s)", proto)
		_, body = b.do("POST", "/api/v1/mail-gateways/"+id+"/test", "")
		require.Equal(t, true, body["ok"], "the password tried was not stored (%s)", proto)
	}
}

// describeSchedule describes gateway id's schedule; nil when there is none.
func describeSchedule(t *testing.T, id string) *scheduleState {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	d, err := temporalClient.ScheduleClient().GetHandle(t.Context(), workflows.MailGatewayScheduleID(n)).Describe(t.Context())
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	require.NoError(t, err)
	return &scheduleState{paused: d.Schedule.State.Paused, every: d.Schedule.Spec.Intervals[0].Every}
}

type scheduleState struct {
	paused bool
	every  time.Duration
}

// TestMailGatewaySchedule: the gateway's schedule is created, paused,
// changed and deleted with it; a paused gateway is not polled now.
func TestMailGatewaySchedule(t *testing.T) {
	t.Parallel()
	b := setup(t, withGatewayKey)
	d := b.department("GW", nil)
	in := closedGateway(d, "Sched "+uniq())
	in.Paused = nil
	status, body := b.doJSON("POST", "/api/v1/mail-gateways", in)
	require.Equal(t, 201, status, "%v", body)
	require.NotContains(t, body, "schedule_error")
	id := jsonID(body)
	require.Equal(t, &scheduleState{paused: false, every: 300 * time.Second}, describeSchedule(t, id))

	status, body = b.do("PATCH", "/api/v1/mail-gateways/"+id, `{"paused": true, "poll_seconds": 600}`)
	require.Equal(t, 200, status, "%v", body)
	require.NotContains(t, body, "schedule_error")
	require.Equal(t, &scheduleState{paused: true, every: 600 * time.Second}, describeSchedule(t, id))
	status, body = b.do("POST", "/api/v1/mail-gateways/"+id+"/poll", "")
	require.Equal(t, 409, status, "%v", body)
	require.Contains(t, mustJSON(body), "paused")

	status, _ = b.do("PATCH", "/api/v1/mail-gateways/"+id, `{"paused": false}`)
	require.Equal(t, 200, status)
	require.Equal(t, &scheduleState{paused: false, every: 600 * time.Second}, describeSchedule(t, id))

	status, _ = b.do("DELETE", "/api/v1/mail-gateways/"+id, "")
	require.Equal(t, 204, status)
	require.Nil(t, describeSchedule(t, id), "the schedule is deleted with the gateway")
	status, _ = b.do("GET", "/api/v1/mail-gateways/"+id, "")
	require.Equal(t, 404, status)
}

// TestMailGatewaySchedulesFollowTheTable: schedules lost or left over (an
// API write while Temporal was away) are set right by the sync the worker
// runs at its start.
func TestMailGatewaySchedulesFollowTheTable(t *testing.T) {
	t.Parallel()
	b := setup(t, withGatewayKey)
	d := b.department("GW", nil)
	g := b.gateway(closedGateway(d, "Heal "+uniq())) // stored, its schedule never made
	id := fmt.Sprint(g.ID)
	require.Nil(t, describeSchedule(t, id))
	orphan := b.gateway(closedGateway(d, "Orphan "+uniq()))
	require.NoError(t, workflows.SyncMailGatewaySchedule(t.Context(), temporalClient, workflows.TaskQueue, orphan))
	require.NoError(t, b.store.DeleteMailGateway(t.Context(), orphan.ID)) // deleted, its schedule left

	gws, err := b.store.MailGateways(t.Context())
	require.NoError(t, err)
	require.NoError(t, workflows.SyncMailGatewaySchedules(t.Context(), temporalClient, workflows.TaskQueue, gws, b.store.MailGatewayExists))
	require.Equal(t, &scheduleState{paused: true, every: 300 * time.Second}, describeSchedule(t, id))
	// The schedule list is eventually consistent: the orphan goes once listed.
	require.Eventually(t, func() bool {
		_ = workflows.SyncMailGatewaySchedules(t.Context(), temporalClient, workflows.TaskQueue, gws, b.store.MailGatewayExists)
		return describeSchedule(t, fmt.Sprint(orphan.ID)) == nil
	}, 30*time.Second, 500*time.Millisecond, "the schedule of a deleted gateway is deleted")
}

// TestMailGatewayOneMailboxDown: two gateways polled through their
// schedules, one at a closed port: that one records its error, the other
// reads its mailbox all the same (ProcessMail, the intake's, takes the
// mail; the poll marks it read).
func TestMailGatewayOneMailboxDown(t *testing.T) {
	t.Parallel()
	s := dovecottest.Start(t, dovecottest.Options{NoTLS: true})
	s.Deliver(t, []byte("From: ann@example.com\r\nTo: gw@example.com\r\nSubject: Hi\r\nMessage-ID: <"+uniq()+"@example.com>\r\n\r\nHello\r\n"))
	b := setup(t, withGatewayKey)
	d := b.department("GW", nil)
	status, body := b.do("POST", "/api/v1/mail-gateways", dovecotGateway(s, "imap", d, ""))
	require.Equal(t, 201, status, "%v", body)
	good := jsonID(body)
	bad := closedGateway(d, "Down "+uniq())
	bad.Paused = nil
	status, body = b.doJSON("POST", "/api/v1/mail-gateways", bad)
	require.Equal(t, 201, status, "%v", body)
	down := jsonID(body)
	for _, id := range []string{down, good} {
		status, body := b.do("POST", "/api/v1/mail-gateways/"+id+"/poll", "")
		require.Equal(t, 202, status, "%v", body)
	}
	require.Eventually(t, func() bool {
		_, g := b.do("GET", "/api/v1/mail-gateways/"+down, "")
		return g["last_poll_at"] != nil && strings.Contains(g["last_error"].(string), "connect")
	}, time.Minute, 100*time.Millisecond, "the gateway whose server is down records why")
	require.Eventually(t, func() bool {
		_, g := b.do("GET", "/api/v1/mail-gateways/"+good, "")
		return g["last_poll_at"] != nil && g["last_error"] == ""
	}, time.Minute, 100*time.Millisecond, "the other gateway is polled")
	n, err := strconv.ParseInt(good, 10, 64)
	require.NoError(t, err)
	g, err := b.store.MailGatewayWithPassword(t.Context(), n, gatewayKey)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := fetch.Dial(ctx, activities.GatewayMailbox(g, nil))
	require.NoError(t, err)
	defer c.Close()
	left, err := c.List(ctx)
	require.NoError(t, err)
	require.Empty(t, left, "the processed mail is marked read")
}
