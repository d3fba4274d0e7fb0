package worker

import (
	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// Steps is the one place custom lifecycle steps are registered: a name
// (which products list in "steps"), the milestones it runs at, and the
// activity. See the README, "Custom lifecycle steps", for a walk-through.
// Besides these, a product with a webhook_url runs the built-in Webhook step
// at every milestone.
func Steps() []activities.Step {
	return []activities.Step{
		{Name: "LogStep", Description: "writes each milestone to the worker's log (an example to copy)",
			Milestones: billing.ServiceMilestones},
	}
}

// StepNames lists the names of the registered steps.
func StepNames(steps []activities.Step) []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name
	}
	return names
}
