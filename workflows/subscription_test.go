package workflows_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/workflows"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// outbox records what the activities sent; a fake for the mail server and
// Twilio inside these workflow tests (the end-to-end test uses real servers).
type outbox struct {
	mu   sync.Mutex
	sent []message
	// onSend, if set, hears each email's subject as it is sent.
	onSend func(subject string)
}

// message is one send: its channel, recipient and subject (email) or body (SMS).
type message struct{ channel, to, text string }

func (o *outbox) Send(_ context.Context, m mail.Message) (string, error) {
	o.mu.Lock()
	o.sent = append(o.sent, message{"email", m.To, m.Subject})
	hear := o.onSend
	o.mu.Unlock()
	if hear != nil {
		hear(m.Subject)
	}
	return "id", nil
}

type texts struct{ o *outbox }

func (t texts) Send(_ context.Context, to, body string) (string, error) {
	t.o.mu.Lock()
	defer t.o.mu.Unlock()
	t.o.sent = append(t.o.sent, message{"sms", to, body})
	return "sid", nil
}

// count returns how many sends contain every part in their channel and text.
// The recipient is left out: it holds the random login, which could contain
// a part such as "nsf".
func (o *outbox) count(parts ...string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.sent {
		s := m.channel + " " + m.text
		all := true
		for _, p := range parts {
			all = all && strings.Contains(s, p)
		}
		if all {
			n++
		}
	}
	return n
}

// harness runs one subscription's workflow, run after run across
// continue-as-new, with the real activities on the real database.
type harness struct {
	t        *testing.T
	ctx      context.Context
	db       *pgxpool.Pool
	store    *store.Store
	acts     *activities.Activities
	out      *outbox
	customer billing.Customer
	product  billing.Product
	sub      billing.Subscription
	now      time.Time
	policy   workflows.Policy
	// reminded, if set, hears each reminder the played reminders schedule
	// handled (see sendReminders), at the time it did.
	reminded func(at time.Time, r activities.Reminder)
}

type options struct {
	price     int64
	unit      string
	count     int // periods of unit per billing period (1 when 0)
	autoRenew bool
	incoming  int
	postPaid  bool
	grace     *int
	timeZone  string
	start     time.Time
	// db, if set, is the database instead of the package's (dbtest.OwnPool,
	// for tests that store global settings).
	db *pgxpool.Pool
}

func setup(t *testing.T, o options) *harness {
	t.Helper()
	if o.unit == "" {
		o.unit = billing.PeriodMonth
	}
	if o.timeZone == "" {
		o.timeZone = "UTC"
	}
	if o.start.IsZero() {
		o.start = time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	}
	ctx := t.Context()
	if o.db == nil {
		o.db = dbtest.Pool(t)
	}
	st := store.New(o.db)
	login := "w" + strings.ToLower(rand.Text()[:10])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "WF", Country: "DE", TimeZone: o.timeZone, PostPaid: o.postPaid,
		User: billing.UserCreate{Login: login, Email: login + "@example.com", Phone: "+4915112345678", FirstName: "Ann"}}
	in.Defaults()
	c, _, err := st.CreateCustomer(ctx, in, "x")
	require.NoError(t, err)
	price := o.price
	pin := billing.ProductInput{Name: "VPS", Price: &price, Currency: "EUR", PeriodUnit: o.unit, PeriodCount: o.count, AutoRenew: &o.autoRenew,
		IncomingDays: &o.incoming, GraceDays: o.grace,
		PaymentStates: map[string]billing.NoticeSetting{
			billing.StateIncoming:           {Email: true, Subject: "incoming [PAYMENT_AMOUNT]", Body: "b"},
			billing.StateApproved:           {Email: true, Subject: "approved", Body: "b"},
			billing.StateNonSufficientFunds: {Email: true, SMS: true, Subject: "nsf [PAYMENT_AMOUNT]", Body: "b", SMSBody: "nsf sms"},
			billing.StateDeclined:           {Email: true, Subject: "declined", Body: "b"},
		}}
	p, err := st.CreateProduct(ctx, pin.Product())
	require.NoError(t, err)
	order, err := st.CreateSubscription(ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID, AutoRenew: &o.autoRenew}, "", 0)
	require.NoError(t, err)
	sub := order.Subscription
	out := &outbox{}
	acts := &activities.Activities{Store: st, Mail: out, SMS: texts{out}, MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler)}
	return &harness{t: t, ctx: ctx, db: o.db, store: st, acts: acts, out: out, customer: c, product: p, sub: sub, now: o.start, policy: workflows.DefaultPolicy}
}

func (h *harness) credit(amount int64) {
	h.t.Helper()
	_, err := h.store.Adjust(h.ctx, h.customer.ID, billing.Adjustment{Kind: billing.Credit, Amount: amount, Currency: "EUR", Reference: "top-up", IdempotencyKey: rand.Text()})
	require.NoError(h.t, err)
}

func (h *harness) balance() int64 {
	h.t.Helper()
	b, err := h.store.Balance(h.ctx, h.customer.ID)
	require.NoError(h.t, err)
	return b.Of("EUR")
}

func (h *harness) input() workflows.SubscriptionInput {
	return workflows.SubscriptionInput{SubscriptionID: h.sub.ID, CustomerID: h.customer.ID, AutoRenew: h.sub.AutoRenew, Policy: h.policy}
}

// run executes one run of the workflow from in. It returns the input of the
// next run if the workflow continued as new, else nil and the result.
func (h *harness) run(in workflows.SubscriptionInput, during func(env *testsuite.TestWorkflowEnvironment)) (*workflows.SubscriptionInput, workflows.SubscriptionResult, error) {
	h.t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(h.now)
	env.RegisterWorkflow(workflows.SubscriptionWorkflow)
	env.RegisterActivity(h.acts)
	h.sendReminders(env)
	if during != nil {
		during(env)
	}
	env.ExecuteWorkflow(workflows.SubscriptionWorkflow, in)
	h.now = env.Now()
	require.True(h.t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if err != nil && asCAN(err, &can) {
		var next workflows.SubscriptionInput
		require.NoError(h.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		return &next, workflows.SubscriptionResult{}, nil
	}
	var res workflows.SubscriptionResult
	if err == nil {
		require.NoError(h.t, env.GetWorkflowResult(&res))
	}
	return nil, res, err
}

// sendReminders plays the reminders schedule in env: at the time of each
// reminder the workflow publishes, a batch (SendDueReminders) runs on env's
// clock, as the schedule's next run would within a minute.
func (h *harness) sendReminders(env *testsuite.TestWorkflowEnvironment) {
	var mu sync.Mutex
	planned := map[time.Time]bool{}
	plan := func(rs []activities.Reminder, now time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rs {
			if planned[r.At] {
				continue
			}
			planned[r.At] = true
			env.RegisterDelayedCallback(func() {
				res, err := h.acts.SendDueReminders(h.ctx, activities.SendDueRemindersInput{Now: env.Now(), SubscriptionID: h.sub.ID})
				if err != nil {
					panic(err)
				}
				for _, r := range res.Reminded {
					if h.reminded != nil {
						h.reminded(env.Now(), r)
					}
				}
			}, max(0, r.At.Sub(now)))
		}
	}
	// Those an earlier run published (a run that begins with the schedule
	// it saved at the renewal saves none).
	var stored []activities.Reminder
	require.NoError(h.t, h.db.QueryRow(h.ctx, `SELECT reminders FROM subscriptions WHERE id = $1`, h.sub.ID).Scan(&stored))
	plan(stored, h.now)
	onActivityStart(env, func(name string, args converter.EncodedValues) {
		switch name {
		case "SaveSchedule":
			var in activities.SaveScheduleInput
			if err := args.Get(&in); err != nil {
				panic(err)
			}
			plan(in.Reminders, env.Now())
		case "SendNotices": // the schedule a step changed is saved by its notices
			var in activities.SendNoticesInput
			if err := args.Get(&in); err != nil {
				panic(err)
			}
			if in.Schedule != nil {
				plan(in.Schedule.Reminders, env.Now())
			}
		}
	})
}

func asCAN(err error, can **workflow.ContinueAsNewError) bool {
	return errorsAs(err, can)
}

// renewFor runs the workflow through n continue-as-new boundaries.
func (h *harness) renewFor(in workflows.SubscriptionInput, n int) workflows.SubscriptionInput {
	h.t.Helper()
	for i := range n {
		next, res, err := h.run(in, nil)
		require.NoError(h.t, err)
		require.NotNil(h.t, next, "run %d ended instead of continuing as new: %+v", i, res)
		in = *next
	}
	return in
}

// TestRenews36Months charges the order and 36 monthly renewals, each once,
// on the 31st of every month that has one (the last day of the others), with
// an exact ledger.
func TestRenews36Months(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1299, autoRenew: true, incoming: 3, timeZone: "Europe/Berlin"})
	h.credit(37 * 1299)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// The 31st of each month at 10:00 in Berlin, or the month's last day:
	// every date is checked, not only the last, which falls in February.
	paidUntil := func(months int) time.Time {
		first := time.Date(2026, time.January+time.Month(months), 1, 10, 0, 0, 0, berlin)
		last := time.Date(2026, time.January+time.Month(months)+1, 0, 10, 0, 0, 0, berlin).Day()
		return first.AddDate(0, 0, min(31, last)-1).UTC()
	}
	in := h.input()
	for i := range 36 { // each run ends at a renewal; the first also holds the order
		next, res, err := h.run(in, nil)
		require.NoError(t, err)
		require.NotNil(t, next, "run %d ended instead of continuing as new: %+v", i, res)
		in = *next
		require.Equal(t, paidUntil(i+2), in.State.PaidUntil, "after renewal %d", i+1)
	}
	require.Equal(t, 37, in.State.Period)
	want := paidUntil(37)
	require.Equal(t, int64(0), h.balance(), "exactly 37 charges of 12.99 EUR")
	ledger, err := h.store.Ledger(h.ctx, h.customer.ID, 200, 0)
	require.NoError(t, err)
	require.Equal(t, 38, ledger.Total, "one top-up and 37 charges")
	require.Equal(t, 36, h.out.count("email", "approved"))
	require.Equal(t, 36, h.out.count("email", "was renewed"))
	require.Equal(t, 36, h.out.count("email", "incoming 12.99 EUR"))
	require.Equal(t, 1, h.out.count("email", "is active"))
	require.Equal(t, 0, h.out.count("Insufficient funds"), "the balance always covered the renewal")
	sub, err := h.store.Subscription(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, want, sub.PaidUntil.UTC())
	require.Equal(t, billing.SubscriptionActive, sub.Status)
}

// schedule queries the running workflow.
func schedule(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.Schedule {
	t.Helper()
	var s workflows.Schedule
	v, err := env.QueryWorkflow(workflows.QuerySchedule)
	require.NoError(t, err)
	require.NoError(t, v.Get(&s))
	return s
}

// TestUnpaidOrderThroughSuspensionToDeletion: the order waits for a payment;
// paid, the service runs a month; the renewal finds no funds (NSF notice),
// the service is suspended a day later, warned 7, 5, 3 and 1 days before
// deletion, and deleted after 14 days of grace. The workflow completes.
func TestUnpaidOrderThroughSuspensionToDeletion(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 500, autoRenew: true, incoming: 1})
	start := h.now
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			s := schedule(t, env)
			require.Equal(t, billing.SubscriptionUnpaid, s.Status)
			require.True(t, s.WaitingForPayment)
			h.credit(500)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
		}, 48*time.Hour)
		env.RegisterDelayedCallback(func() {
			s := schedule(t, env)
			require.Equal(t, billing.SubscriptionSuspended, s.Status)
			require.Equal(t, "unpaid", s.SuspendReason)
			require.Equal(t, billing.MilestoneDeleted, s.Next[len(s.Next)-1].Milestone, "staff can see when it will be deleted")
		}, 48*time.Hour+(31+2)*24*time.Hour)
	})
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, workflows.SubscriptionResult{Status: billing.SubscriptionDeleted, Periods: 1}, res)
	paidAt := start.Add(48 * time.Hour)
	d := billing.AddPeriods(paidAt, billing.PeriodMonth, 1)
	sameTime(t, d.Add(24*time.Hour).AddDate(0, 0, 14), h.now, "deleted 14 days after the suspension, a day after the failed renewal")
	require.Equal(t, int64(0), h.balance())
	require.Equal(t, 1, h.out.count("email", "nsf"))
	require.Equal(t, 1, h.out.count("sms", "nsf sms"))
	require.Equal(t, 6, h.out.count("email", "Insufficient funds"), "5 4 3 2 1 0 days before renewal")
	require.Equal(t, 1, h.out.count("email", "is suspended"))
	require.Equal(t, 4, h.out.count("email", "will be deleted soon"), "7 5 3 1 days before deletion")
	require.Equal(t, 1, h.out.count("email", "was deleted"))
	sub, err := h.store.Subscription(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionDeleted, sub.Status)
}

// TestNSFThenPayment: the renewal fails, a payment before the suspension renews it.
func TestNSFThenPayment(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 800, autoRenew: true, incoming: 2})
	h.credit(800)
	d := billing.AddPeriods(h.now, billing.PeriodMonth, 1)
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			s := schedule(t, env)
			require.True(t, s.WaitingForPayment, "the renewal failed; waiting for a payment")
			require.Equal(t, billing.SubscriptionActive, s.Status)
			h.credit(1000)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 7})
		}, d.Sub(h.now)+6*time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, 2, next.State.Period)
	sameTime(t, day(2026, 3, 31), next.State.PaidUntil, "renewed from the old date (28 February), on the anchor: 31 March")
	require.Equal(t, int64(200), h.balance())
	require.Equal(t, 1, h.out.count("nsf", "email"))
	require.Equal(t, 1, h.out.count("approved"))
	require.Equal(t, 0, h.out.count("is suspended"))
}

// TestDeclinedBeyondCreditLimit: a post-paid customer's charge beyond the
// credit limit is declined: the declined notice, not the NSF one.
func TestDeclinedBeyondCreditLimit(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1000, autoRenew: true, incoming: 2, postPaid: true})
	_, err := dbtest.Pool(t).Exec(h.ctx, `UPDATE customers SET credit_limit = 1500 WHERE id = $1`, h.customer.ID)
	require.NoError(t, err)
	d := billing.AddPeriods(h.now, billing.PeriodMonth, 1)
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		cancelAt(t, env, d.Sub(h.now)+time.Hour)
	})
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, int64(-1000), h.balance(), "the order went through on credit; the renewal did not")
	require.Equal(t, 1, h.out.count("email", "declined"))
	require.Equal(t, 0, h.out.count("nsf"))
	require.Equal(t, 0, h.out.count("Insufficient funds"), "post-paid customers get no low-balance notices")
}

// cancelAt cancels the service after the delay; the cancel must be accepted.
func cancelAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, delay time.Duration) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCancel, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("cancel rejected: %v", err) }, OnComplete: func(any, error) {},
		}, workflows.CancelInput{})
	}, delay)
}

// TestRefusedRenewalNotice: a refused renewal sends the declined notice for a
// declined charge and the NSF one for any other refusal, under the error
// types charges fail with and under those that histories recorded before
// they were error codes carry.
func TestRefusedRenewalNotice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ errType, notice, not string }{
		{activities.ErrChargeDeclined, "declined", "nsf"},
		{activities.LegacyChargeDeclined, "declined", "nsf"},
		{activities.ErrInsufficientFunds, "nsf", "declined"},
		{activities.LegacyInsufficientFunds, "nsf", "declined"},
	} {
		t.Run(tc.errType, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 100, autoRenew: true, incoming: 2})
			h.credit(1000)
			d := billing.AddPeriods(h.now, billing.PeriodMonth, 1)
			next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				env.OnActivity(h.acts.ChargePeriod, mock.Anything, mock.Anything).Return(
					func(ctx context.Context, in activities.ChargePeriodInput) (activities.ChargePeriodResult, error) {
						if in.Period == 1 {
							return h.acts.ChargePeriod(ctx, in)
						}
						return activities.ChargePeriodResult{}, temporal.NewNonRetryableApplicationError("refused", tc.errType, nil)
					})
				cancelAt(t, env, d.Sub(h.now)+time.Hour)
			})
			require.NoError(t, err)
			require.Nil(t, next)
			require.Equal(t, 1, h.out.count("email", tc.notice))
			require.Equal(t, 0, h.out.count("email", tc.not))
		})
	}
}

// TestPostPaid: charges always go through; the balance goes negative and no
// NSF, low-balance or suspension notice is sent.
func TestPostPaid(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 700, autoRenew: true, incoming: 3, postPaid: true})
	in := h.renewFor(h.input(), 2)
	require.Equal(t, 3, in.State.Period)
	require.Equal(t, int64(-2100), h.balance())
	require.Equal(t, 0, h.out.count("nsf"))
	require.Equal(t, 0, h.out.count("Insufficient funds"))
	require.Equal(t, 0, h.out.count("suspended"))
}

// TestNoAutoRenewExpires: without automatic renewal the client is told the
// service is going to expire, it is suspended at its paid-until date, warned
// before deletion and deleted; nothing is charged after the order.
func TestNoAutoRenewExpires(t *testing.T) {
	t.Parallel()
	grace := 10
	h := setup(t, options{price: 300, autoRenew: false, incoming: 3, grace: &grace})
	h.credit(10_000)
	next, res, err := h.run(h.input(), nil)
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, billing.SubscriptionDeleted, res.Status)
	require.Equal(t, int64(9700), h.balance(), "only the first period was charged")
	require.Equal(t, 6, h.out.count("email", "is going to expire"))
	require.Equal(t, 0, h.out.count("incoming"), "no automatic payment, no incoming notice")
	require.Equal(t, 1, h.out.count("email", "is suspended"))
	require.Equal(t, 4, h.out.count("email", "will be deleted soon"))
	d := billing.AddPeriods(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC), billing.PeriodMonth, 1)
	sameTime(t, d.AddDate(0, 0, 10), h.now, "deleted after the product's 10 days of grace")
}

// TestIncomingZeroMeansNoAutomaticPayment: incoming days 0 turns automatic
// renewal off even when the subscription asks for it (seed 002).
func TestIncomingZeroMeansNoAutomaticPayment(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 300, autoRenew: true, incoming: 0})
	h.credit(10_000)
	_, res, err := h.run(h.input(), nil)
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionDeleted, res.Status)
	require.Equal(t, int64(9700), h.balance())
}

// TestPaymentDuringGrace: a suspended service paid during its grace period
// renews from the old paid-until date and is active again.
func TestPaymentDuringGrace(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 400, autoRenew: true, incoming: 1})
	h.credit(400)
	d := billing.AddPeriods(h.now, billing.PeriodMonth, 1)
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			require.Equal(t, billing.SubscriptionSuspended, schedule(t, env).Status)
			h.credit(400)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{})
		}, d.Sub(h.now)+5*24*time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, billing.SubscriptionActive, next.State.Status)
	sameTime(t, day(2026, 3, 31), next.State.PaidUntil, "renewed from the old date (28 February), on the anchor, not from the payment")
	require.Equal(t, int64(0), h.balance())
	sub, err := h.store.Subscription(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionActive, sub.Status)
}

// outcome is what became of an update: rejected by its validator, or
// completed with a schedule or an error.
type outcome struct {
	rejected, err error
	schedule      workflows.Schedule
	done          bool
}

// send sends an update; the test environment answers asynchronously, so a
// later step reads the outcome.
func send(env *testsuite.TestWorkflowEnvironment, name string, arg any) *outcome {
	o := &outcome{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(e error) { o.rejected, o.done = e, true },
		OnComplete: func(r any, e error) {
			if s, ok := r.(workflows.Schedule); ok {
				o.schedule = s
			}
			o.err, o.done = e, true
		},
	}, arg)
	return o
}

// steps runs each function one minute after the previous, from at.
func steps(env *testsuite.TestWorkflowEnvironment, at time.Duration, fns ...func()) {
	for i, fn := range fns {
		env.RegisterDelayedCallback(fn, at+time.Duration(i)*time.Minute)
	}
}

// TestStaffUpdates: validators reject what the state forbids (nothing is
// written); accepted updates change the schedule.
func TestStaffUpdates(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(1000)
	var o, o2, o3 *outcome
	var paidUntil time.Time
	lastStep := false
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, 24*time.Hour,
			func() {
				o, o2, o3 = send(env, workflows.UpdateResume, workflows.ResumeInput{}),
					send(env, workflows.UpdateExtend, workflows.ExtendInput{Days: 0}),
					send(env, workflows.UpdateSuspend, workflows.SuspendInput{})
			},
			func() {
				require.ErrorContains(t, o.rejected, "only a suspended service can be resumed")
				require.ErrorContains(t, o2.rejected, "days must be 1 to 3650")
				require.ErrorContains(t, o3.rejected, "reason")
				o = send(env, workflows.UpdateSuspend, workflows.SuspendInput{Reason: "abuse report"})
			},
			func() {
				require.True(t, o.done)
				require.NoError(t, o.rejected)
				require.NoError(t, o.err)
				require.Equal(t, billing.SubscriptionSuspended, o.schedule.Status)
				require.Empty(t, o.schedule.Next, "a staff suspension stops the clock until resumed")
				o = send(env, workflows.UpdateRenewNow, workflows.RenewNowInput{})
			},
			func() {
				require.ErrorContains(t, o.rejected, "resume it first")
				o = send(env, workflows.UpdateResume, workflows.ResumeInput{})
			},
			func() {
				require.NoError(t, o.rejected)
				require.NoError(t, o.err)
				require.Equal(t, billing.SubscriptionActive, o.schedule.Status)
				paidUntil = *o.schedule.PaidUntil
				o = send(env, workflows.UpdateExtend, workflows.ExtendInput{Days: 10})
			},
			func() {
				require.NoError(t, o.err)
				sameTime(t, paidUntil.AddDate(0, 0, 10), *o.schedule.PaidUntil, "extended by 10 days")
				o = send(env, workflows.UpdateSetAutoRenew, workflows.SetAutoRenewInput{Enabled: false})
			},
			func() {
				require.NoError(t, o.err)
				require.False(t, o.schedule.AutoRenew)
				require.Equal(t, billing.MilestoneExpiring, o.schedule.Next[0].Milestone)
				o = send(env, workflows.UpdateRenewNow, workflows.RenewNowInput{})
				lastStep = true
			},
		)
	})
	require.NoError(t, err)
	require.True(t, lastStep, "every step ran before the run ended")
	// Renew now ends the run at once (continue-as-new), so its answer is
	// checked here: it was answered before the run ended.
	require.True(t, o.done, "renew now was answered")
	require.NoError(t, o.rejected)
	require.NoError(t, o.err)
	require.Equal(t, 2, o.schedule.Period, "renewed now")
	require.NotNil(t, next, "renew now ends the period: continue as new (%+v)", res)
	require.Equal(t, 2, next.State.Period)
	require.Equal(t, int64(800), h.balance())
	require.Equal(t, 1, h.out.count("email", "is suspended"))
	require.Equal(t, 1, h.out.count("sms", "is suspended: abuse report"))
	require.Equal(t, 1, h.out.count("email", "is active again"))

	// Cancel at period end, then run to the end of the period.
	next2, res, err := h.run(*next, func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, time.Hour,
			func() { o = send(env, workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: true}) },
			func() {
				require.NoError(t, o.rejected)
				require.NoError(t, o.err)
				require.True(t, o.schedule.CancelAtPeriodEnd)
				require.Equal(t, billing.MilestoneCancelled, o.schedule.Next[len(o.schedule.Next)-1].Milestone)
			})
	})
	require.NoError(t, err)
	require.Nil(t, next2)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	require.Equal(t, int64(800), h.balance(), "cancelled at period end: nothing more charged")
	require.Equal(t, 1, h.out.count("was cancelled"), "%q", h.out.sent)
}

// TestCancelNowOfUnpaidOrder: an unpaid order can be cancelled at once.
func TestCancelNowOfUnpaidOrder(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	var o *outcome
	_, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, time.Hour,
			func() { o = send(env, workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: true}) },
			func() {
				require.ErrorContains(t, o.rejected, "cancel it now instead")
				o = send(env, workflows.UpdateCancel, workflows.CancelInput{})
			})
	})
	require.NoError(t, err)
	require.NoError(t, o.rejected)
	require.Equal(t, workflows.SubscriptionResult{Status: billing.SubscriptionCancelled}, res)
}

// TestSignalAtContinueAsNewBoundary: a payment signalled while the period's
// renewal is being charged, just before the workflow continues as new, is
// carried into the next run, not lost.
func TestSignalAtContinueAsNewBoundary(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(200)
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		charges := 0
		onActivityStart(env, func(name string, _ converter.EncodedValues) {
			if name == "ChargePeriod" {
				if charges++; charges == 2 {
					env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 9})
				}
			}
		})
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.True(t, next.State.PaymentPending, "the signal that arrived with the renewal is carried over")
	require.Equal(t, 2, next.State.Period)
}

func sameTime(t *testing.T, want, got time.Time, msg string) {
	t.Helper()
	require.True(t, want.Equal(got), "%s: want %s, got %s", msg, want, got)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
