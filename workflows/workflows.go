// Package workflows holds the Temporal workflows of the billing system. Their
// code is deterministic: only workflow.* primitives, no I/O.
package workflows

// TaskQueue is the task queue every billing workflow and activity runs on.
const TaskQueue = "billing"
