package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// actionsOf counts the Temporal Cloud actions one run's history shows, the
// way Temporal Cloud bills them (https://docs.temporal.io/cloud/actions):
//   - a workflow started, by a client, signal-with-start, continue-as-new or
//     as a child: 1;
//   - a timer started, also the implicit one of AwaitWithTimeout: 1;
//   - an activity: 1 per attempt (the started event's attempt count; the
//     history keeps only the last attempt);
//   - local activities: all those of one workflow task count as 1 (their
//     markers name the workflow task that recorded them);
//   - a search attribute upsert: 1 per command, but not one that only sets
//     TemporalChangeVersion (GetVersion's), which is exempt;
//   - memo changes (workflow properties modified): 1 per command;
//   - a signal received or sent, an update accepted (an update rejected by
//     its validator is billed too but leaves no event), a child workflow
//     started, an external cancel requested: 1 each;
//   - a side effect marker: 1; version markers (GetVersion) are free.
//
// Queries, activity heartbeats and rejected updates are billed too but leave
// no event in the history: they are not counted here. Nor are workflow task
// heartbeats, one action each: a local activity that outlasts the workflow
// task timeout (SendNotices meeting a mail server that stalls, up to its
// minute) makes the SDK complete the task and start another every few
// seconds, which the history shows only as workflow tasks with no commands;
// the bench's cycles have none. A child workflow's start is billed as two
// (the parent's intent and the start); the subscription workflow has none.
func actionsOf(events []*historypb.HistoryEvent) int {
	n := 0
	for _, c := range actionsByType(events) {
		n += c
	}
	return n
}

// actionsByType is actionsOf by the event type that carries the action.
func actionsByType(events []*historypb.HistoryEvent) map[string]int {
	out := map[string]int{}
	laTasks := map[int64]bool{}
	for _, ev := range events {
		t := eventName(ev.GetEventType())
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_TIMER_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
			out[t]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			out[t] += max(int(ev.GetActivityTaskStartedEventAttributes().GetAttempt()), 1)
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			fields := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
			if len(fields) == 1 && fields["TemporalChangeVersion"] != nil {
				continue
			}
			out[t]++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			m := ev.GetMarkerRecordedEventAttributes()
			switch m.GetMarkerName() {
			case "LocalActivity":
				if !laTasks[m.GetWorkflowTaskCompletedEventId()] {
					laTasks[m.GetWorkflowTaskCompletedEventId()] = true
					out["LocalActivity (per workflow task)"]++
				}
			case "SideEffect", "MutableSideEffect":
				out["SideEffect"]++
			}
		}
	}
	return out
}

// eventsByType counts a history's events by type.
func eventsByType(events []*historypb.HistoryEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range events {
		t := eventName(ev.GetEventType())
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			t += " (" + m.GetMarkerName() + ")"
		}
		out[t]++
	}
	return out
}

// sequence lists events in order, one line each, naming the local activity
// of a marker and the activity of a scheduled one: where a cycle's events go.
func sequence(events []*historypb.HistoryEvent) string {
	var sb strings.Builder
	for _, ev := range events {
		line := eventName(ev.GetEventType())
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			line += " (" + m.GetMarkerName()
			if d := m.GetDetails()["data"]; d != nil && len(d.GetPayloads()) > 0 {
				var la struct{ ActivityType string }
				if json.Unmarshal(d.GetPayloads()[0].GetData(), &la) == nil && la.ActivityType != "" {
					line += " " + la.ActivityType
				}
			}
			line += ")"
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			line += " (" + a.GetActivityType().GetName() + ")"
		}
		fmt.Fprintf(&sb, "  %3d %s\n", ev.GetEventId(), line)
	}
	return sb.String()
}

// eventName is "TimerStarted" for EVENT_TYPE_TIMER_STARTED.
func eventName(t enumspb.EventType) string {
	return t.String()
}

// breakdown formats counts by type, most first.
func breakdown(counts map[string]int) string {
	keys := slices.Sorted(maps.Keys(counts))
	slices.SortStableFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %-45s %d\n", k, counts[k])
	}
	return sb.String()
}
