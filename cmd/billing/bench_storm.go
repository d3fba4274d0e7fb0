package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/workflows"
)

// storm is the "storm" phase: N subscriptions due in the same second against
// N bare timer-plus-one-activity workflows, in alternating rounds (bare
// first in even rounds, billing first in odd ones, so that neither side
// always follows the other). Each round prints what the machine did during
// it (see probe), the evidence of why one round is slower than another.
func (b *bench) storm() ([]row, error) {
	var bare, cont, bill []time.Duration
	var bareCPU, contCPU, billCPU []float64 // the Temporal server's CPU seconds in each burst
	lasts := map[string]int{}
	for r := range b.f.rounds {
		sides := []string{"bare", "bare+continue", "billing"}
		if r%2 == 1 {
			slices.Reverse(sides)
		}
		for _, side := range sides {
			if side != "billing" {
				d, cpu, err := b.bareBurst(r, b.f.storm, b.f.concurrency, side == "bare+continue")
				if err != nil {
					return nil, err
				}
				if side == "bare" {
					bare, bareCPU = append(bare, d), append(bareCPU, cpu)
				} else {
					cont, contCPU = append(cont, d), append(contCPU, cpu)
				}
				continue
			}
			stop, err := b.newWorker()
			if err != nil {
				return nil, err
			}
			res, err := b.renewalBurst(fmt.Sprintf("round %d billing", r), b.f.storm, b.f.concurrency, nil)
			stop()
			if err != nil {
				return nil, err
			}
			bill, billCPU = append(bill, res.total), append(billCPU, res.serverCPU)
			lasts[res.last]++
		}
	}
	mb, mr, mc := median(bill), median(bare), median(cont)
	cpu := func(xs []float64) float64 {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return max(xs[len(xs)/2], 0.01)
	}
	span := func(ds []time.Duration) string {
		return fmt.Sprintf("%s (%s-%s)", sec(median(ds)), sec(slices.Min(ds)), sec(slices.Max(ds)))
	}
	return []row{{measure: fmt.Sprintf("%d due at the same second, default policy: until every one is charged, notified, its row written and its next run started vs %d bare timer+activity workflows done (median of %d rounds each, alternating; min-max; last condition: %v; Temporal server CPU, billing/bare: %.2f)",
		b.f.storm, b.f.storm, b.f.rounds, lasts, cpu(billCPU)/cpu(bareCPU)),
		billing: span(bill), bare: span(bare),
		ratio: fmt.Sprintf("%.2f", mb.Seconds()/mr.Seconds()), target: "<= 1.5"},
		{measure: fmt.Sprintf("the same storm vs %d bare timer+activity workflows that continue as new into a sleeping run, done when that run completed its first task (the floor of a renewal: the continue-as-new the period boundary requires; Temporal server CPU, billing/bare+continue: %.2f, bare+continue/bare: %.2f)",
			b.f.storm, cpu(billCPU)/cpu(contCPU), cpu(contCPU)/cpu(bareCPU)),
			billing: span(bill), bare: span(cont), ratio: fmt.Sprintf("%.2f (bare+continue/bare: %.2f)", mb.Seconds()/mc.Seconds(), mc.Seconds()/mr.Seconds()), target: "stated"}}, nil
}

func sec(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// median is the middle of ds (the mean of the two middle ones for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// stormKilled is the "kill" phase: the storm with the worker, a process of
// its own, killed (SIGKILL) twice in the middle and started again each time.
// Mail goes to an SMTP server in the bench, which keeps every delivery: a
// notice sent twice is two deliveries (the mail folder would keep one file).
func (b *bench) stormKilled() ([]row, error) {
	smtpd, err := smtptest.Start()
	if err != nil {
		return nil, err
	}
	defer smtpd.Close()
	env := []string{"SMTP_ADDR=" + smtpd.Addr, "SMTP_TLS=none"}
	w, err := b.startWorkerProcess(env...)
	if err != nil {
		return nil, err
	}
	n := b.f.storm
	var kills []string
	onProgress := func(charged int) error {
		if len(kills) < 2 && charged >= (len(kills)+1)*n/3 {
			w.kill()
			kills = append(kills, fmt.Sprintf("at %d charged", charged))
			fmt.Printf("worker killed with %d of %d charged; starting it again\n", charged, n)
			if w, err = b.startWorkerProcess(env...); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := b.renewalBurst("killed twice", n, b.f.concurrency, onProgress)
	defer func() { w.stop() }()
	if err != nil {
		return nil, err
	}
	time.Sleep(3 * time.Second) // anything sent twice arrives meanwhile
	c, err := b.checkExactlyOnce(res, smtpd)
	if err != nil {
		return nil, err
	}
	fmt.Printf("kill check: %+v\n", c)
	return []row{{measure: fmt.Sprintf("the %d storm with the worker process SIGKILLed twice (%s) and started again: time until all done; double charges, wrong amounts, missed charges, duplicate notices (rows, deliveries), missed notices (rows, deliveries), notices left 'sending'",
		n, strings.Join(kills, ", ")),
		billing: fmt.Sprintf("%s; %d double, %d wrong, %d missed charges; %d+%d duplicate, %d+%d missed notices; %d sending",
			sec(res.total), c.doubleCharged, c.wrongAmount, c.missedCharges, c.duplicateRows, c.duplicateMail, c.missedRows, c.missedMail, c.sending),
		target: "0 double charges, 0 duplicate notices, 0 missed; time stated"}}, nil
}

// onceCheck is what checkExactlyOnce counts; every one should be 0.
type onceCheck struct {
	doubleCharged, wrongAmount, missedCharges int
	duplicateRows, duplicateMail              int
	missedRows, missedMail, sending           int
	delivered                                 int
}

// checkExactlyOnce checks a burst from the database and the SMTP server's
// deliveries: one period-2 ledger entry of the product's price per
// subscription and no other debit of its customer; one approved and one
// renewed notice row per subscription and channel, each delivered once.
func (b *bench) checkExactlyOnce(res burstResult, smtpd *smtptest.Server) (onceCheck, error) {
	var c onceCheck
	if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*) FILTER (WHERE c = 0), count(*) FILTER (WHERE c > 1), count(*) FILTER (WHERE c = 1 AND amount <> $2)
		FROM (SELECT s.id, count(l.id) AS c, coalesce(sum(l.amount), 0) AS amount FROM subscriptions s
			LEFT JOIN ledger_entries l ON l.customer_id = s.customer_id AND l.idempotency_key = 'subscription:' || s.id || ':period:2'
			WHERE s.id = ANY($1) GROUP BY s.id) x`, res.subscriptions, res.price).Scan(&c.missedCharges, &c.doubleCharged, &c.wrongAmount); err != nil {
		return c, err
	}
	var otherDebits int
	if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*) FROM (SELECT customer_id FROM ledger_entries WHERE kind = 'debit' AND customer_id = ANY($1)
		GROUP BY customer_id HAVING count(*) > 1) x`, res.customers).Scan(&otherDebits); err != nil {
		return c, err
	}
	c.doubleCharged += otherDebits
	rows, err := b.m.Pool.Query(b.ctx, `SELECT subscription_id, event, channel, recipient, subject, status FROM notices
		WHERE subscription_id = ANY($1) AND period = 2 AND event IN ('approved', 'renewed')`, res.subscriptions)
	if err != nil {
		return c, err
	}
	type key struct {
		sub            int64
		event, channel string
	}
	seen := map[key]int{}
	type mailKey struct{ to, subject string }
	want := map[mailKey]bool{}
	for rows.Next() {
		var k key
		var to, subject, status string
		if err := rows.Scan(&k.sub, &k.event, &k.channel, &to, &subject, &status); err != nil {
			rows.Close()
			return c, err
		}
		if seen[k]++; seen[k] == 2 {
			c.duplicateRows++
		}
		if status == "sending" {
			c.sending++
		}
		if k.channel == "email" {
			want[mailKey{strings.ToLower(to), subject}] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	for _, s := range res.subscriptions {
		for _, ev := range []string{"approved", "renewed"} {
			if seen[key{s, ev, "email"}] == 0 {
				c.missedRows++
			}
		}
	}
	got := map[mailKey]int{}
	for _, m := range smtpd.Messages() {
		k := mailKey{strings.ToLower(strings.Trim(m.To, "<> ")), m.Subject}
		if !want[k] {
			continue
		}
		got[k]++
		c.delivered++
		if got[k] == 2 {
			c.duplicateMail++
		}
	}
	for k := range want {
		if got[k] == 0 {
			c.missedMail++
		}
	}
	return c, nil
}

// BenchTimerActivity is the bare workflow of the burst: a timer to a given
// moment, then one activity.
func BenchTimerActivity(ctx workflow.Context, at time.Time) error {
	if err := workflow.Sleep(ctx, at.Sub(workflow.Now(ctx))); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, BenchNoop).Get(ctx, nil)
}

// BenchTimerActivityContinue is BenchTimerActivity continuing as new after
// its activity into a run that sleeps a day: the shape of a renewal.
func BenchTimerActivityContinue(ctx workflow.Context, at time.Time) error {
	if at.Before(workflow.GetInfo(ctx).WorkflowStartTime) {
		return workflow.Sleep(ctx, 24*time.Hour) // the next run
	}
	if err := BenchTimerActivity(ctx, at); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, BenchTimerActivityContinue, at)
}

// BenchNoop is the bare activity.
func BenchNoop(context.Context) error { return nil }

// burstMoment is when a burst of n is due: far enough ahead for n starts at
// 50 a second (a quiet 2-core machine does about 180, a busy one 60).
func burstMoment(n int) time.Time {
	return time.Now().Add(time.Duration(n/50+20) * time.Second).Truncate(time.Second)
}

// bareBurst times n timer-plus-one-activity workflows all due at one moment:
// from the moment to the last one's completion, read from the histories.
// continued: each continues as new after its activity, into a run that
// sleeps (as a subscription does at its period boundary), and is done when
// that run has completed its first workflow task.
func (b *bench) bareBurst(round, n, concurrency int, continued bool) (d time.Duration, serverCPU float64, err error) {
	stop, err := b.newWorker()
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	at, began := burstMoment(n), time.Now().Add(-time.Second)
	side, wf, done := "bare", any(BenchTimerActivity), "ExecutionStatus = 'Completed'"
	if continued {
		side, wf, done = "bare+continue", any(BenchTimerActivityContinue), "ExecutionStatus = 'Running' AND StartTime > "+strconv.Quote(at.UTC().Format(time.RFC3339Nano))
	}
	wfType := runtime.FuncForPC(reflect.ValueOf(wf).Pointer()).Name()
	wfType = wfType[strings.LastIndexByte(wfType, '.')+1:]
	runs := make([]execution, n)
	err = parallel(n, concurrency, func(i int) error {
		r, err := b.tc.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%s-%d-%d", strings.ReplaceAll(side, "+", "-"), round, i), TaskQueue: "bench",
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, wf, at)
		if err == nil {
			runs[i] = execution{r.GetID(), r.GetRunID()}
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if time.Now().After(at) {
		return 0, 0, fmt.Errorf("starting took too long; the burst moment passed")
	}
	time.Sleep(time.Until(at))
	p := b.newProbe(at)
	for i := 0; ; i++ {
		closed, err := b.count(fmt.Sprintf("WorkflowType = '%s' AND %s AND StartTime >= %q", wfType, done, began.UTC().Format(time.RFC3339Nano)))
		if err != nil {
			return 0, 0, err
		}
		if closed >= int64(n) {
			break
		}
		if i > 0 && time.Since(at) > time.Duration(n)*250*time.Millisecond+10*time.Minute {
			return 0, 0, fmt.Errorf("%s burst: %d of %d done after %s", side, closed, n, time.Since(at))
		}
		time.Sleep(pollEvery)
	}
	var h historyFacts
	if continued {
		if err := b.waitFirstTasks(side, runs); err != nil {
			return 0, 0, err
		}
		next := make([]execution, n)
		for i, r := range runs {
			next[i] = execution{id: r.id}
		}
		probe, cpu := p.done()
		h = b.histories(next, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		d = h.firstOfEach.Sub(at)
		fmt.Printf("round %d %s: %d done %s after their moment; %s%s\n", round, side, n, sec(d), probe, h.hiccups())
		return d, cpu, nil
	}
	probe, serverCPU := p.done()
	h = b.histories(runs, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	d = h.last.Sub(at)
	fmt.Printf("round %d %s: %d done %s after their moment (first %s); %s%s\n", round, side, n, sec(d), sec(h.first.Sub(at)), probe, h.hiccups())
	return d, serverCPU, nil
}

// waitFirstTasks waits until the latest run of each of runs has completed
// a workflow task. Visibility lists a next run once it starts; its first
// task may still be waiting. Those tasks run roughly in the order the runs
// started: each look goes through the pending ones in order and stops at
// the first not done, so it reads few histories (reading all n every
// second was a load of its own on the server it waits for).
func (b *bench) waitFirstTasks(name string, runs []execution) error {
	pending := slices.Clone(runs)
	for deadline := time.Now().Add(10 * time.Minute); ; {
		for len(pending) > 0 && b.firstTaskDone(pending[0].id) {
			pending = pending[1:]
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d next runs did not complete their first workflow task in 10 minutes", name, len(pending))
		}
		time.Sleep(pollEvery)
	}
}

// pollEvery is how often a burst looks whether it is done. Its figures are
// the times the database and the histories recorded, not the time of the
// poll that saw them, so a second costs no precision; a quarter of a second
// made the poll itself (the billing side's counts over 10,000 customers,
// both sides' visibility count) a load on the machine it measures.
const pollEvery = time.Second

// count counts the workflows visibility finds for query.
func (b *bench) count(query string) (int64, error) {
	res, err := b.tc.CountWorkflow(b.ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: b.m.Config.TemporalNamespace, Query: query})
	if err != nil {
		return 0, err
	}
	return res.GetCount(), nil
}

// burstResult is one renewal burst: its total and each of its four
// conditions' time from the due moment, and what checkExactlyOnce checks.
type burstResult struct {
	total, charged, notified, rows, nextRuns time.Duration
	last                                     string // the condition met last
	subscriptions, customers                 []int64
	price                                    int64
	serverCPU                                float64 // the Temporal server's CPU seconds from the moment to the end
}

// renewalBurst times n subscriptions whose renewal is due at one moment: it
// starts their workflows as a continued period (the shape continue-as-new
// carries) with paid-until at that moment and waits until each one is
// charged (its period-2 ledger entry), notified (its approved and renewed
// notices sent), its row written (paid_until moved) and its next run
// started (the next run's first workflow task completed). A worker must be
// running; onProgress, if given, is called with the number charged at every
// poll (the kill phase kills the worker from it).
func (b *bench) renewalBurst(name string, n, concurrency int, onProgress func(charged int) error) (burstResult, error) {
	var res burstResult
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return res, err
	}
	res.price = p.Price
	ids, err := b.customers(n, 1000)
	if err != nil {
		return res, err
	}
	at := burstMoment(n)
	plan := activities.Plan{ProductID: p.ID, ProductName: p.Name, Price: p.Price, Currency: p.Currency, PeriodUnit: p.PeriodUnit,
		PeriodCount: p.PeriodCount, IncomingDays: p.IncomingDays, AutoRenew: true, TimeZone: "UTC"}
	runs := make([]execution, n)
	subs := make([]int64, n)
	err = parallel(n, concurrency, func(i int) error {
		order, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[i], ProductID: p.ID}, "", 0)
		if err != nil {
			return err
		}
		subs[i] = order.Subscription.ID
		state := &workflows.SubscriptionState{Status: billing.SubscriptionActive, Period: 1, PeriodStart: time.Now(), PaidUntil: at,
			AutoRenew: true, Plan: plan, Done: []string{"incoming", "insufficient_funds:1", "insufficient_funds:0"},
			// A service of today's code, whose runs kept track of usage (a run
			// from before usage-overage looks for open periods once more).
			UsageTracked: true}
		runs[i].id = billing.SubscriptionWorkflowID(order.Subscription.ID)
		runs[i].run, err = b.m.Workflows.Start(b.ctx, workflows.SubscriptionInput{SubscriptionID: order.Subscription.ID, CustomerID: ids[i],
			AutoRenew: true, Policy: b.m.Config.Settings.Policy(), State: state}, p)
		return err
	})
	res.subscriptions, res.customers = subs, ids
	if err != nil {
		return res, err
	}
	if time.Now().After(at) {
		return res, fmt.Errorf("starting took too long; the burst moment passed")
	}
	time.Sleep(time.Until(at))
	pr := b.newProbe(at)
	// Each condition's time is the database's own (created_at, updated_at)
	// where it keeps one, and the next runs' from their histories.
	var charged, notified, rows int
	var nextRuns int64
	var chargedAt, notifiedAt, rowsAt time.Time
	for {
		if err := b.m.Pool.QueryRow(b.ctx, `SELECT
			(SELECT count(*) FROM ledger_entries WHERE customer_id = ANY($1) AND idempotency_key LIKE 'subscription:%:period:2'),
			(SELECT coalesce(max(created_at), now()) FROM ledger_entries WHERE customer_id = ANY($1) AND idempotency_key LIKE 'subscription:%:period:2'),
			(SELECT count(*) FROM notices WHERE subscription_id = ANY($2) AND period = 2 AND event IN ('approved', 'renewed') AND status = 'sent'),
			(SELECT coalesce(max(updated_at), now()) FROM notices WHERE subscription_id = ANY($2) AND period = 2 AND event IN ('approved', 'renewed') AND status = 'sent'),
			(SELECT count(*) FROM subscriptions WHERE id = ANY($2) AND paid_until > $3),
			(SELECT coalesce(max(updated_at), now()) FROM subscriptions WHERE id = ANY($2) AND paid_until > $3)`,
			ids, subs, at).Scan(&charged, &chargedAt, &notified, &notifiedAt, &rows, &rowsAt); err != nil {
			return res, err
		}
		if nextRuns < int64(n) {
			if nextRuns, err = b.count(fmt.Sprintf("WorkflowType = 'SubscriptionWorkflow' AND StartTime > %q", at.UTC().Format(time.RFC3339Nano))); err != nil {
				return res, err
			}
		}
		if onProgress != nil {
			if err := onProgress(charged); err != nil {
				return res, err
			}
		}
		if charged >= n && notified >= 2*n && rows >= n && nextRuns >= int64(n) {
			break
		}
		if time.Since(at) > time.Duration(n)*250*time.Millisecond+10*time.Minute {
			return res, fmt.Errorf("%s: after %s: %d of %d charged, %d of %d notices sent, %d rows, %d next runs",
				name, time.Since(at).Round(time.Second), charged, n, notified, 2*n, rows, nextRuns)
		}
		time.Sleep(pollEvery)
	}
	if err := b.waitFirstTasks(name, runs); err != nil {
		return res, err
	}
	probe, serverCPU := pr.done()
	res.serverCPU = serverCPU
	old := b.histories(runs, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
	next := make([]execution, n)
	for i, r := range runs {
		next[i] = execution{id: r.id} // the latest run: the next one
	}
	nh := b.histories(next, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	if nh.missing > 0 {
		return res, fmt.Errorf("%s: %d next runs without a completed workflow task", name, nh.missing)
	}
	res.charged, res.notified, res.rows, res.nextRuns = chargedAt.Sub(at), notifiedAt.Sub(at), rowsAt.Sub(at), nh.firstOfEach.Sub(at)
	conds := []struct {
		name string
		d    time.Duration
	}{{"charged", res.charged}, {"notified", res.notified}, {"row written", res.rows}, {"next run started", res.nextRuns}}
	for _, c := range conds {
		if c.d >= res.total {
			res.total, res.last = c.d, c.name
		}
	}
	fmt.Printf("%s: %d done %s after their moment (charged %s, notified %s, rows %s, next runs %s; last: %s; first continue-as-new %s); %s%s\n",
		name, n, sec(res.total), sec(res.charged), sec(res.notified), sec(res.rows), sec(res.nextRuns), res.last,
		sec(old.first.Sub(at)), probe, old.hiccups())
	fmt.Printf("%s: the last run to continue:%s\n%s: the last next run:%s\n", name, old.timeline(at), name, nh.timeline(at))
	return res, nil
}

// execution names a workflow run ("" run: the latest).
type execution struct{ id, run string }

// historyFacts is what histories found.
type historyFacts struct {
	// first and last are the earliest and latest time of the event type
	// looked for; firstOfEach is the latest of each run's first such event.
	first, last, firstOfEach time.Time
	// counts are the timeouts and failures in the histories (a task that
	// timed out and was retried stretches a burst).
	counts map[string]int
	// missing counts the runs without the event.
	missing int
	// slowest is the events of the run whose first such event came last.
	slowest []*historypb.HistoryEvent
}

// histories reads the histories of runs, 16 at a time.
func (b *bench) histories(runs []execution, event enumspb.EventType) historyFacts {
	var mu sync.Mutex
	h := historyFacts{counts: map[string]int{}}
	_ = parallel(len(runs), 16, func(i int) error {
		r := runs[i]
		var first, last, firstHere time.Time
		var events []*historypb.HistoryEvent
		counts := map[string]int{}
		it := b.tc.GetWorkflowHistory(b.ctx, r.id, r.run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				counts["history unreadable"]++
				break
			}
			events = append(events, ev)
			if ev.GetEventType() == event {
				t := ev.GetEventTime().AsTime()
				if first.IsZero() || t.Before(first) {
					first = t
				}
				if t.After(last) {
					last = t
				}
				if firstHere.IsZero() {
					firstHere = t
				}
			}
			name := ev.GetEventType().String()
			if a := ev.GetWorkflowTaskTimedOutEventAttributes(); a != nil {
				name += " " + a.GetTimeoutType().String()
			}
			if a := ev.GetActivityTaskTimedOutEventAttributes(); a != nil {
				name += " " + a.GetFailure().GetTimeoutFailureInfo().GetTimeoutType().String()
			}
			if strings.Contains(name, "TimedOut") || strings.HasSuffix(name, "Failed") {
				counts[name]++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if !first.IsZero() && (h.first.IsZero() || first.Before(h.first)) {
			h.first = first
		}
		if last.After(h.last) {
			h.last = last
		}
		if firstHere.IsZero() {
			h.missing++
		}
		if firstHere.After(h.firstOfEach) {
			h.firstOfEach, h.slowest = firstHere, events
		}
		for k, v := range counts {
			h.counts[k] += v
		}
		return nil
	})
	return h
}

// firstTaskDone says whether the latest run of workflow id has completed a
// workflow task.
func (b *bench) firstTaskDone(id string) bool {
	it := b.tc.GetWorkflowHistory(b.ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return false
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return true
		}
	}
	return false
}

// timeline is the slowest run's events, each with its time after at.
func (h historyFacts) timeline(at time.Time) string {
	var sb strings.Builder
	for _, ev := range h.slowest {
		fmt.Fprintf(&sb, " %s@%s", strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_"), sec(ev.GetEventTime().AsTime().Sub(at)))
	}
	return sb.String()
}

func (h historyFacts) hiccups() string {
	if len(h.counts) == 0 {
		return ""
	}
	return fmt.Sprintf(" (in their histories: %v)", h.counts)
}

// probe notes what the machine does during a burst: the CPU time of the
// Temporal server, of PostgreSQL, of the bench and of everything else (other
// work on a shared machine), the load, the bench's garbage collection, the
// size of the dev server's SQLite file and write-ahead log, and
// PostgreSQL's checkpoints.
type probe struct {
	b                              *bench
	at                             time.Time
	temporal, postgres, self, busy float64
	gcs                            int64
	gcPause                        time.Duration
	db, wal                        int64
	checkpoints                    int64
}

func (b *bench) newProbe(at time.Time) *probe {
	p := &probe{b: b, at: at}
	p.temporal, p.postgres, p.self, p.busy = b.cpu()
	var gc debug.GCStats
	debug.ReadGCStats(&gc)
	p.gcs, p.gcPause = gc.NumGC, gc.PauseTotal
	p.db, p.wal = b.temporalFiles()
	p.checkpoints = b.checkpoints()
	return p
}

// done says what happened since the probe began, and returns the Temporal
// server's CPU seconds meanwhile: the cost of a burst, which other work on
// the machine delays but does not change.
func (p *probe) done() (string, float64) {
	wall := time.Since(p.at).Seconds()
	temporal, postgres, self, busy := p.b.cpu()
	var gc debug.GCStats
	debug.ReadGCStats(&gc)
	db, wal := p.b.temporalFiles()
	other := (busy - p.busy) - (temporal - p.temporal) - (postgres - p.postgres) - (self - p.self)
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("CPU s in %.0f s wall: Temporal %.1f, PostgreSQL %.1f, bench %.1f, others %.1f; load %s; bench GC %d cycles %s paused; temporal.db %d→%d MB, WAL %d→%d MB; PG checkpoints +%d",
		wall, temporal-p.temporal, postgres-p.postgres, self-p.self, other, strings.Join(strings.Fields(string(load))[:3], " "),
		gc.NumGC-p.gcs, (gc.PauseTotal - p.gcPause).Round(time.Millisecond), p.db>>20, db>>20, p.wal>>20, wal>>20, p.b.checkpoints()-p.checkpoints), temporal - p.temporal
}

// cpu returns the CPU seconds used so far by the Temporal dev server, by
// every postgres process, by this process, and by the whole machine.
func (b *bench) cpu() (temporal, postgres, self, busy float64) {
	if t := b.m.devTemporal; t != nil {
		temporal = procCPU(t.cmd.Process.Pid)
	}
	self = procCPU(os.Getpid())
	// Only this database's backends: other databases of the same server
	// are others' work.
	if rows, err := b.m.Pool.Query(b.ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`); err == nil {
		for rows.Next() {
			var pid int
			if rows.Scan(&pid) == nil {
				postgres += procCPU(pid)
			}
		}
		rows.Close()
	}
	if stat, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(stat), "\n", 2)[0])
		for i, v := range f[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			if i != 3 && i != 4 { // idle, iowait
				busy += x / 100
			}
		}
	}
	return temporal, postgres, self, busy
}

// procCPU is the user and system CPU seconds of process pid (0 if gone).
func procCPU(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// temporalFiles are the sizes of the dev server's SQLite file and its WAL.
func (b *bench) temporalFiles() (db, wal int64) {
	path := filepath.Join(b.dir, "temporal.db")
	if fi, err := os.Stat(path); err == nil {
		db = fi.Size()
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		wal = fi.Size()
	}
	return db, wal
}

// checkpoints counts PostgreSQL's checkpoints so far (timed and requested).
func (b *bench) checkpoints() int64 {
	var n int64
	_ = b.m.Pool.QueryRow(b.ctx, `SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter`).Scan(&n)
	return n
}
