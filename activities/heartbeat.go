package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// HeartbeatTimeout is how long Temporal waits for a heartbeat from a running
// billing activity before it counts the worker as lost and runs the activity
// again elsewhere. Every built-in activity heartbeats (see heartbeat), so a
// worker killed mid-activity costs seconds instead of the activity's whole
// time limit (a minute for SendNotices).
const HeartbeatTimeout = 5 * time.Second

// heartbeat tells Temporal, every second until stop is called, that the
// activity's worker is alive. Outside an activity (a unit test) it does
// nothing.
func heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return cancel
}

// heartbeatWith is heartbeat with details: every second it records what
// details returns (a batch's progress), so that the next attempt of an
// activity whose worker died can go on from there.
func heartbeatWith(ctx context.Context, details func() any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx, details())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return cancel
}
