package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// TestActionsOfAHistory counts the billed actions of a made-up run the way
// Temporal Cloud bills them: starts, timers, activity attempts, one per
// workflow task with local activities, upserts but not GetVersion's,
// signals, updates, side effects; no version markers, no workflow tasks.
func TestActionsOfAHistory(t *testing.T) {
	t.Parallel()
	ev := func(typ enumspb.EventType) *historypb.HistoryEvent { return &historypb.HistoryEvent{EventType: typ} }
	marker := func(name string, task int64) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: name, WorkflowTaskCompletedEventId: task}}}
	}
	upsert := func(keys ...string) *historypb.HistoryEvent {
		fields := map[string]*commonpb.Payload{}
		for _, k := range keys {
			fields[k] = &commonpb.Payload{}
		}
		return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			Attributes: &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
				SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields}}}}
	}
	started := func(attempt int32) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{Attempt: attempt}}}
	}
	wft := []*historypb.HistoryEvent{ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)}
	var h []*historypb.HistoryEvent
	h = append(h, ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)) // 1
	h = append(h, wft...)
	h = append(h, marker("Version", 4), upsert("TemporalChangeVersion"))                    // free
	h = append(h, marker("LocalActivity", 4), marker("LocalActivity", 4))                   // 1: one workflow task
	h = append(h, ev(enumspb.EVENT_TYPE_TIMER_STARTED), ev(enumspb.EVENT_TYPE_TIMER_FIRED)) // 1
	h = append(h, wft...)
	h = append(h, marker("LocalActivity", 12))                                                                                           // 1: another task
	h = append(h, ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), started(3), ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED))            // 3 attempts
	h = append(h, upsert("BillingStatus", "BillingPaidUntil"))                                                                           // 1
	h = append(h, ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED))                                                                    // 1
	h = append(h, ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)) // 1
	h = append(h, marker("SideEffect", 20))                                                                                              // 1
	h = append(h, ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW))                                                            // the next run's start counts there

	require.Equal(t, 11, actionsOf(h))
	require.Equal(t, map[string]int{"WorkflowExecutionStarted": 1, "LocalActivity (per workflow task)": 2, "TimerStarted": 1,
		"ActivityTaskStarted": 3, "UpsertWorkflowSearchAttributes": 1, "WorkflowExecutionSignaled": 1,
		"WorkflowExecutionUpdateAccepted": 1, "SideEffect": 1}, actionsByType(h))
	events := eventsByType(h)
	require.Equal(t, 3, events["MarkerRecorded (LocalActivity)"])
	require.Equal(t, 2, events["UpsertWorkflowSearchAttributes"])
	require.Equal(t, 6, events["WorkflowTaskScheduled"]+events["WorkflowTaskStarted"]+events["WorkflowTaskCompleted"])
}
