package workflows_test

import (
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/workflows"
)

// runInactive runs one InactiveClientsWorkflow, as the schedule does, in a
// time-skipping test environment with acts.
func runInactive(t *testing.T, acts *activities.Activities) workflows.InactiveClientsResult {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.InactiveClientsWorkflow)
	env.RegisterActivity(acts)
	env.ExecuteWorkflow(workflows.InactiveClientsWorkflow, workflows.InactiveClientsInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.InactiveClientsResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

// TestInactiveClients: with delete_inactive_clients_days at 30, a customer
// inactive 23 days (30 - 7) or more gets account_deletion_warning (main user only,
// their language, the days and the date); 7 days after the warning, one
// inactive 30 days is deleted and gets account_deleted; runs repeated (a
// retry, a restarted worker, the next hour's run) send and delete nothing
// twice; a customer that becomes active again is not deleted. (Time passes
// by moving the database's dates back.)
func TestInactiveClients(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.OwnPool(t)) // its own settings
	ctx := t.Context()
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	acts := &activities.Activities{Store: st, Mail: m, SMS: texts{&outbox{}}, MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler)}
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := st.Pool().Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	customer := func(inactiveDays int) (billing.Customer, billing.User) {
		l := "i" + strings.ToLower(rand.Text()[:10])
		in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Idle " + l, Country: "DE",
			User: billing.UserCreate{Login: l, Email: l + "@example.com", FirstName: "Ida", Language: "en"}}
		in.Defaults()
		c, u, err := st.CreateCustomer(ctx, in, "x")
		require.NoError(t, err)
		l2 := "j" + strings.ToLower(rand.Text()[:10])
		_, err = st.CreateUser(ctx, c.ID, billing.UserCreate{Login: l2, Email: l2 + "@example.com"}, "x")
		require.NoError(t, err)
		exec(`UPDATE customers SET registered_at = now() - $2 * interval '1 day' WHERE id = $1`, c.ID, inactiveDays)
		return c, u
	}
	require.Equal(t, workflows.InactiveClientsResult{}, runInactive(t, acts), "off (0) while not set")

	long, longMain := customer(40)
	soon, soonMain := customer(25)
	fresh, _ := customer(20)
	comeback, _ := customer(40)
	days := 30
	_, err = st.UpdateSettings(ctx, billing.DefaultSettings(), billing.SettingsUpdate{DeleteInactiveClientsDays: &days})
	require.NoError(t, err)

	res := runInactive(t, acts)
	require.Equal(t, workflows.InactiveClientsResult{Warned: 3}, res, "warned first, even those inactive 30 days already")
	warnings := map[string]smtptest.Message{}
	for _, msg := range srv.Messages() {
		warnings[msg.To] = msg
	}
	require.Len(t, warnings, 3, "the main user of each, only")
	in7 := time.Now().Add(7 * 24 * time.Hour).UTC().Format("2006-01-02")
	require.Equal(t, "The account of "+long.Name+" will be deleted on "+in7, warnings[longMain.Email].Subject, "7 days after the warning")
	require.Equal(t, "The account of "+soon.Name+" will be deleted on "+in7, warnings[soonMain.Email].Subject,
		"inactive 30 days in 5 days, but warned 7 days before")
	require.Contains(t, decodeQP(t, warnings[longMain.Email].Body), "for\r\n30 days")
	require.Contains(t, decodeQP(t, warnings[longMain.Email].Body), "Hello Ida,")

	require.Equal(t, workflows.InactiveClientsResult{}, runInactive(t, acts), "the next run: nothing again")
	require.Len(t, srv.Messages(), 3)

	// A week later; the comeback customer paid something in between.
	exec(`UPDATE customers SET deletion_warned_at = deletion_warned_at - interval '7 days', registered_at = registered_at - interval '7 days'
		WHERE id = ANY($1)`, []int64{long.ID, soon.ID, fresh.ID, comeback.ID})
	exec(`INSERT INTO payments (customer_id, method, amount, currency, status) VALUES ($1, 'electronic', 100, 'EUR', 'cancelled')`, comeback.ID)
	res = runInactive(t, acts)
	require.Equal(t, workflows.InactiveClientsResult{Deleted: 2, Warned: 1}, res, "long and soon deleted, fresh (27 days) warned")
	msgs := srv.Messages()[3:]
	var deleted []string
	for _, msg := range msgs {
		if strings.Contains(msg.Subject, "was deleted") {
			deleted = append(deleted, msg.To)
			require.Contains(t, decodeQP(t, msg.Body), "it had no services, no balance and no activity for a long time")
		}
	}
	require.ElementsMatch(t, []string{longMain.Email, soonMain.Email}, deleted, "account_deleted to the main user only")
	for _, c := range []billing.Customer{long, soon} {
		got, err := st.Customer(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, billing.CustomerDeleted, got.Status)
	}
	got, err := st.Customer(ctx, comeback.ID)
	require.NoError(t, err)
	require.Equal(t, billing.CustomerActive, got.Status, "active again: kept")

	// The deletion activity retried after it succeeded (a worker killed
	// before it reported): nothing is sent twice.
	again, err := acts.DeleteInactiveCustomer(ctx, activities.DeleteInactiveInput{CustomerID: long.ID})
	require.NoError(t, err)
	require.Equal(t, activities.DeleteInactiveResult{Sent: activities.SendEventResult{AlreadySent: 1}}, again)
	require.Equal(t, workflows.InactiveClientsResult{}, runInactive(t, acts))
	require.Len(t, srv.Messages(), 3+3)
}

// decodeQP decodes a quoted-printable body.
func decodeQP(t *testing.T, body string) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	require.NoError(t, err)
	return string(b)
}

// TestInactiveClientsFailureIsolated: a customer whose deletion keeps
// failing is counted and left to the next run; the others are done.
func TestInactiveClientsFailureIsolated(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	env.OnActivity(a.FindInactiveCustomers, mock.Anything, mock.Anything).Return(activities.FindInactiveResult{Days: 30,
		Warn:   []billing.InactiveCustomer{{ID: 1, LastActivity: now}},
		Delete: []billing.InactiveCustomer{{ID: 2}, {ID: 3}}}, nil)
	env.OnActivity(a.WarnInactiveCustomer, mock.Anything, activities.WarnInactiveInput{CustomerID: 1, LastActivity: now, Days: 30}).
		Return(activities.WarnInactiveResult{Warned: true}, nil).Once()
	env.OnActivity(a.DeleteInactiveCustomer, mock.Anything, activities.DeleteInactiveInput{CustomerID: 2}).
		Return(activities.DeleteInactiveResult{}, errors.New("database gone"))
	env.OnActivity(a.DeleteInactiveCustomer, mock.Anything, activities.DeleteInactiveInput{CustomerID: 3}).
		Return(activities.DeleteInactiveResult{Deleted: true}, nil).Once()
	env.ExecuteWorkflow(workflows.InactiveClientsWorkflow, workflows.InactiveClientsInput{})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.InactiveClientsResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.InactiveClientsResult{Warned: 1, Deleted: 1, Failed: 1}, res)
	env.AssertExpectations(t)
}
