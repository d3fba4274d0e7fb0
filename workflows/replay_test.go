package workflows_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

var updateHistories = flag.Bool("update-histories", false, "record the histories missing from testdata/ on a real Temporal server")

// TestReplayCommittedHistories replays every history in testdata/ with the
// current workflow code. A change that would break running subscriptions
// fails here: guard it with workflow.GetVersion. Record the histories
// missing from testdata/ with go test ./workflows -run TestReplay -update-histories.
func TestReplayCommittedHistories(t *testing.T) {
	if *updateHistories {
		recordHistories(t)
	}
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no histories in testdata/")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := sdkworker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflows.SubscriptionWorkflow)
			r.RegisterWorkflow(workflows.BroadcastWorkflow)
			r.RegisterWorkflow(workflows.InactiveClientsWorkflow)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)), f))
		})
	}
}

// recordHistories runs real subscriptions on a Temporal dev server, in real
// time with products billed in seconds, and writes the histories that
// testdata/ doesn't hold yet.
func recordHistories(t *testing.T) {
	ctx := context.Background()
	dev, err := temporaltest.Start(ctx)
	require.NoError(t, err)
	defer func() { _ = dev.Stop() }()
	tc := dev.Client()
	st := store.New(dbtest.Pool(t))
	out := &outbox{}
	acts := &activities.Activities{Store: st, Mail: out, SMS: texts{out}, MailFrom: "billing@example.com",
		Steps: worker.Steps(), Log: slog.New(slog.DiscardHandler)}
	w := worker.New(tc, workflows.TaskQueue, acts, worker.Options{})
	require.NoError(t, w.Start())
	defer w.Stop()
	policy := workflows.Policy{LowMoneyDays: []int{2, 1, 0}, NearDeleteDays: []int{3, 1}, GraceDays: 4, SuspendAfterDays: 1,
		UnpaidOrderDays: 3}

	start := func(h *harness) (string, string) {
		id := billing.SubscriptionWorkflowID(h.sub.ID) + "-" + strings.ToLower(h.customer.Name)
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.SubscriptionWorkflow, workflows.SubscriptionInput{SubscriptionID: h.sub.ID, CustomerID: h.customer.ID,
				AutoRenew: h.sub.AutoRenew, Policy: policy})
		require.NoError(t, err)
		return id, run.GetRunID()
	}
	secondly := options{unit: billing.PeriodSecond, autoRenew: true, incoming: 2, price: 100}
	// record runs a scenario and writes the histories it returns (file name:
	// workflow ID and run, "" for the last), unless every file exists: a
	// committed history is never overwritten (rename it _v<n> to keep it).
	record := func(scenario func() map[string][2]string, names ...string) {
		missing := false
		for _, name := range names {
			if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
				missing = true
			}
		}
		if !missing {
			t.Logf("kept %v: they exist", names)
			return
		}
		runs := scenario()
		for _, name := range names {
			if _, err := os.Stat(filepath.Join("testdata", name)); err == nil {
				t.Logf("kept %s: it exists", name)
				continue
			}
			writeHistory(t, tc, runs[name][0], runs[name][1], name)
		}
	}
	one := func(name, id, run string) map[string][2]string { return map[string][2]string{name: {id, run}} }

	// 1. Order and a renewal: the first run ends in continue-as-new.
	record(func() map[string][2]string {
		renewing := setup(t, secondly)
		renewing.credit(300)
		id, run := start(renewing)
		waitRun(t, tc, id, run)
		return one("renewal_continue_as_new.json", id, run)
	}, "renewal_continue_as_new.json")

	// 1b. The run after it: it carries its cycle-cost version (4 or later)
	// in its input and takes it without asking (no version marker).
	record(func() map[string][2]string {
		renewing := setup(t, secondly)
		renewing.credit(300)
		id, first := start(renewing)
		waitRun(t, tc, id, first)
		second := nextRun(t, tc, id, first)
		waitRun(t, tc, id, second)
		return one("renewal_continued_run.json", id, second)
	}, "renewal_continued_run.json")

	// 2. Not enough money: NSF, suspension, deletion notices, deletion.
	record(func() map[string][2]string {
		grace := 4
		o := secondly
		o.grace = &grace
		unpaid := setup(t, o)
		unpaid.credit(100)
		id, _ := start(unpaid)
		waitDone(t, tc, id)
		return one("nsf_suspension_deletion.json", id, "")
	}, "nsf_suspension_deletion.json")

	// 3. Staff actions, and a custom step added to the product mid-life.
	record(func() map[string][2]string {
		o := secondly
		o.price = 0
		staffed := setup(t, o)
		id, run := start(staffed)
		time.Sleep(time.Second)
		for _, u := range []struct {
			name string
			arg  any
		}{
			{workflows.UpdateSuspend, workflows.SuspendInput{Reason: "abuse"}},
			{workflows.UpdateResume, workflows.ResumeInput{}},
			{workflows.UpdateExtend, workflows.ExtendInput{Days: 3}},
			{workflows.UpdateSetAutoRenew, workflows.SetAutoRenewInput{Enabled: false}},
		} {
			h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: u.name, Args: []any{u.arg},
				WaitForStage: client.WorkflowUpdateStageCompleted})
			require.NoError(t, err, u.name)
			require.NoError(t, h.Get(ctx, nil), u.name)
			if u.name == workflows.UpdateSuspend {
				_, err := dbtest.Pool(t).Exec(ctx, `UPDATE products SET steps = '{LogStep}' WHERE id = $1`, staffed.product.ID)
				require.NoError(t, err)
			}
		}
		_, err = tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateCancel,
			Args: []any{workflows.CancelInput{}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err)
		waitDone(t, tc, id)
		return one("staff_actions_and_added_step.json", id, run)
	}, "staff_actions_and_added_step.json")

	// 4. An order never paid expires (3 "days" of a product billed in seconds).
	record(func() map[string][2]string {
		expiring := setup(t, secondly)
		id, _ := start(expiring)
		waitDone(t, tc, id)
		return one("unpaid_order_expires.json", id, "")
	}, "unpaid_order_expires.json")

	// 5. A price change before the period is announced: the notices and the
	// renewal use the new price, read once at the first notice.
	record(func() map[string][2]string {
		o := secondly
		o.count = 10
		repriced := setup(t, o)
		repriced.credit(1000)
		id, run := start(repriced)
		time.Sleep(3 * time.Second)
		repriced.setPrice(repriced.product.ID, 150)
		waitRun(t, tc, id, run)
		return one("price_change_announced.json", id, run)
	}, "price_change_announced.json")

	// 6. A cancel crossing the payment of an unpaid order: refunded if the
	// charge came first.
	record(func() map[string][2]string {
		crossing := setup(t, secondly)
		id, _ := start(crossing)
		time.Sleep(time.Second)
		crossing.credit(100)
		require.NoError(t, tc.SignalWorkflow(ctx, id, "", workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1}))
		_, err = tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateCancel,
			Args: []any{workflows.CancelInput{}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err)
		waitDone(t, tc, id)
		return one("cancel_crossing_payment.json", id, "")
	}, "cancel_crossing_payment.json")

	// 7. Paid in grace after the old period would have ended: renewed from
	// the payment.
	record(func() map[string][2]string {
		o := secondly
		o.count = 2
		grace := 10
		o.grace = &grace
		late := setup(t, o)
		late.credit(100)
		id, run := start(late)
		time.Sleep(8 * time.Second)
		late.credit(100)
		require.NoError(t, tc.SignalWorkflow(ctx, id, "", workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 2}))
		waitRun(t, tc, id, run)
		return one("late_payment_in_grace.json", id, run)
	}, "late_payment_in_grace.json")

	// 8. Stored settings, changed mid-period: the order's charge reads them
	// (the live-settings change), the period keeps them, the renewal reads
	// the new ones and the next run's notices fall by them. The settings
	// are dropped afterwards: the package's other tests run without.
	record(func() map[string][2]string {
		defer func() {
			_, err := dbtest.Pool(t).Exec(ctx, `DELETE FROM settings`)
			require.NoError(t, err)
		}()
		change := func(u billing.SettingsUpdate) {
			_, err := st.UpdateSettings(ctx, billing.DefaultSettings(), u)
			require.NoError(t, err)
		}
		change(billing.SettingsUpdate{LowMoneyExpirePeriod: &[]int{3}})
		o := secondly
		o.count = 10
		changing := setup(t, o)
		changing.credit(1000)
		id, run := start(changing)
		time.Sleep(3 * time.Second)
		change(billing.SettingsUpdate{LowMoneyExpirePeriod: &[]int{1}})
		waitRun(t, tc, id, run)
		d, err := tc.DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		next := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		waitRun(t, tc, id, next)
		return map[string][2]string{"settings_changed_mid_period.json": {id, run}, "settings_next_period.json": {id, next}}
	}, "settings_changed_mid_period.json", "settings_next_period.json")

	// 11. The service notices of issue 12: a license whose order lacks a
	// required parameter waits for it (order-parameters), activates when it
	// is given (set-parameters), and is told of its updates-until date 2, 1
	// and 0 "days" (seconds) before it (license-updates), then renews.
	record(func() map[string][2]string {
		o := secondly
		o.count = 10
		licensed := setup(t, o)
		p := licensed.product
		p.Kind, p.OrderParameters = billing.KindLicense, []billing.OrderParameter{{Name: "domain", Title: "Domain name", Required: true}}
		_, err := st.UpdateProduct(ctx, p.ID, p)
		require.NoError(t, err)
		licensed.credit(1000)
		id := billing.SubscriptionWorkflowID(licensed.sub.ID) + "-" + strings.ToLower(licensed.customer.Name)
		r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.SubscriptionWorkflow, workflows.SubscriptionInput{SubscriptionID: licensed.sub.ID, CustomerID: licensed.customer.ID,
				AutoRenew: true, Policy: policy, UpdatesUntil: time.Now().Add(7 * time.Second)})
		require.NoError(t, err)
		time.Sleep(time.Second)
		given, _, err := st.SetParameters(ctx, licensed.sub.ID, map[string]string{"domain": "shop.example"})
		require.NoError(t, err)
		h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateParameters,
			Args: []any{workflows.SetParametersInput{Given: given}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err)
		var sched workflows.Schedule
		require.NoError(t, h.Get(ctx, &sched))
		require.Equal(t, billing.SubscriptionActive, sched.Status)
		waitRun(t, tc, id, r.GetRunID())
		require.Equal(t, 3, out.count("email", "Updates of your license"))
		return one("service_notices.json", id, r.GetRunID())
	}, "service_notices.json")

	// customer adds a customer of language lang, with a main user and
	// another, registered inactiveDays ago.
	customer := func(name, lang string, inactiveDays int) billing.Customer {
		in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: name, Country: "FI", Language: lang,
			User: billing.UserCreate{Login: name, Email: name + "@example.com", FirstName: "Ilona"}}
		in.Defaults()
		c, _, err := st.CreateCustomer(ctx, in, "x")
		require.NoError(t, err)
		_, err = st.CreateUser(ctx, c.ID, billing.UserCreate{Login: "o" + name, Email: "o" + name + "@example.com"}, "x")
		require.NoError(t, err)
		_, err = st.Pool().Exec(ctx, `UPDATE customers SET registered_at = now() - $2 * interval '1 day' WHERE id = $1`, c.ID, inactiveDays)
		require.NoError(t, err)
		return c
	}

	// 9. A message to the customers of a language, one customer a batch and
	// two batches a run: the first run continues as new with its cursor, the
	// second ends the sending.
	record(func() map[string][2]string {
		for i := range 3 {
			customer(fmt.Sprintf("fi%d%d", i, time.Now().UnixNano()), "fi", 0)
		}
		m, err := st.CreateMessage(ctx, billing.MessageCreate{Language: "fi", Category: billing.CategoryInfo,
			Subject: "Huolto", Text: "Paneeli on kiinni lauantaina."}, 50, nil)
		require.NoError(t, err)
		id := billing.MessageWorkflowID(m.ID)
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.BroadcastWorkflow, workflows.BroadcastInput{MessageID: m.ID, Rate: 50, BatchSize: 1, BatchesPerRun: 2})
		require.NoError(t, err)
		waitRun(t, tc, id, run.GetRunID())
		waitDone(t, tc, id)
		d, err := tc.DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		return map[string][2]string{"broadcast_continue_as_new.json": {id, run.GetRunID()},
			"broadcast_done.json": {id, d.GetWorkflowExecutionInfo().GetExecution().GetRunId()}}
	}, "broadcast_continue_as_new.json", "broadcast_done.json")

	// 10. The inactive clients' run: one customer warned, one warned 8 days
	// ago deleted. The settings are dropped afterwards.
	record(func() map[string][2]string {
		defer func() {
			_, err := dbtest.Pool(t).Exec(ctx, `DELETE FROM settings`)
			require.NoError(t, err)
		}()
		days := 30
		_, err := st.UpdateSettings(ctx, billing.DefaultSettings(), billing.SettingsUpdate{DeleteInactiveClientsDays: &days})
		require.NoError(t, err)
		customer(fmt.Sprintf("idle%d", time.Now().UnixNano()), "en", 40)
		warned := customer(fmt.Sprintf("gone%d", time.Now().UnixNano()), "en", 40)
		_, err = st.Pool().Exec(ctx, `UPDATE customers SET deletion_warned_at = now() - interval '8 days' WHERE id = $1`, warned.ID)
		require.NoError(t, err)
		id := fmt.Sprintf("inactive-clients-%d", time.Now().UnixNano())
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.InactiveClientsWorkflow, workflows.InactiveClientsInput{})
		require.NoError(t, err)
		var res workflows.InactiveClientsResult
		require.NoError(t, run.Get(ctx, &res))
		require.Equal(t, workflows.InactiveClientsResult{Warned: 1, Deleted: 1}, res)
		return one("inactive_clients.json", id, run.GetRunID())
	}, "inactive_clients.json")
}

func waitRun(t *testing.T, tc client.Client, id, run string) {
	err := tc.GetWorkflow(context.Background(), id, run).GetWithOptions(context.Background(), nil, client.WorkflowRunGetOptions{DisableFollowingRuns: true})
	require.Error(t, err, "the run ends by continuing as new")
}

// nextRun is the run that run continued as new into.
func nextRun(t *testing.T, tc client.Client, id, run string) string {
	it := tc.GetWorkflowHistory(context.Background(), id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
			return a.GetNewExecutionRunId()
		}
	}
	t.Fatalf("run %s of %s did not continue as new", run, id)
	return ""
}

func waitDone(t *testing.T, tc client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, tc.GetWorkflow(ctx, id, "").Get(ctx, nil))
}

func writeHistory(t *testing.T, tc client.Client, id, run, name string) {
	it := tc.GetWorkflowHistory(context.Background(), id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("testdata", name), raw, 0o644))
	fmt.Printf("recorded %s: %d events\n", name, len(h.Events))
}
