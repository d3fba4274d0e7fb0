package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing/webhook"
)

// Step is a custom lifecycle step: an activity that runs at some milestones
// of the subscriptions whose product names it. Run is the activity function,
// func(context.Context, StepInput) (StepResult, error), which the worker
// registers under Name; nil means the method of Activities called Name.
type Step struct {
	Name        string
	Description string
	Milestones  []string
	Run         any
}

// StepInput tells a step which subscription reached which milestone.
type StepInput struct {
	SubscriptionID int64
	CustomerID     int64
	ProductID      int64
	Milestone      string
	Period         int
	Status         string
	PaidUntil      time.Time
}

// StepResult is what a step reports back (shown in the workflow's history).
type StepResult struct {
	Note string
}

// StepsForInput asks which steps run for a subscription at a milestone.
type StepsForInput struct {
	SubscriptionID int64
	Milestone      string
}

// StepsForResult names the activities to run, in order.
type StepsForResult struct {
	Activities []string
}

// WebhookStep is the built-in step that POSTs to the product's webhook URL.
const WebhookStep = "Webhook"

// ErrWebhookRefused is the type of the non-retryable error of a webhook
// whose URL leads to a loopback, private or other non-public address.
const ErrWebhookRefused = "WebhookRefused"

// StepsFor reads the product's steps now, so that adding a step to a product
// takes effect at the next milestone without changing running histories.
func (a *Activities) StepsFor(ctx context.Context, in StepsForInput) (StepsForResult, error) {
	defer heartbeat(ctx)()
	res := StepsForResult{Activities: []string{}}
	// Errors stay retryable here: the workflow can't go on without the answer,
	// and a failed workflow would stop billing the service; a retrying
	// activity shows the problem in the Temporal UI until someone fixes it.
	sub, err := a.Store.Subscription(ctx, in.SubscriptionID)
	if err != nil {
		return res, err
	}
	p, err := a.Store.Product(ctx, sub.ProductID)
	if err != nil {
		return res, err
	}
	for _, s := range a.Steps {
		if slices.Contains(p.Steps, s.Name) && slices.Contains(s.Milestones, in.Milestone) {
			res.Activities = append(res.Activities, s.Name)
		}
	}
	if p.WebhookURL != "" {
		res.Activities = append(res.Activities, WebhookStep)
	}
	return res, nil
}

// WebhookEvent is the JSON body the webhook step POSTs.
type WebhookEvent struct {
	ID             string    `json:"id"`
	Milestone      string    `json:"milestone"`
	SubscriptionID int64     `json:"subscription_id"`
	CustomerID     int64     `json:"customer_id"`
	ProductID      int64     `json:"product_id"`
	Period         int       `json:"period"`
	Status         string    `json:"status"`
	PaidUntil      time.Time `json:"paid_until"`
}

// Webhook POSTs the milestone as JSON to the product's webhook URL, signed
// with HMAC-SHA256 of the body under the product's secret in the header
// X-Billing-Signature (sha256=<hex>). The event ID is the same on every
// retry, so the receiver can drop repeats. Unless AllowPrivateWebhooks, it
// connects only to public addresses, checked at every connection (see
// package webhook): a refusal is not retried.
func (a *Activities) Webhook(ctx context.Context, in StepInput) (StepResult, error) {
	p, err := a.Store.Product(ctx, in.ProductID)
	if err != nil {
		return StepResult{}, nonRetryableIfPermanent(err)
	}
	if p.WebhookURL == "" {
		return StepResult{Note: "the product has no webhook any more"}, nil
	}
	ev := WebhookEvent{ID: fmt.Sprintf("subscription-%d-period-%d-%s", in.SubscriptionID, in.Period, in.Milestone),
		Milestone: in.Milestone, SubscriptionID: in.SubscriptionID, CustomerID: in.CustomerID, ProductID: in.ProductID,
		Period: in.Period, Status: in.Status, PaidUntil: in.PaidUntil}
	body, err := json.Marshal(ev)
	if err != nil {
		return StepResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return StepResult{}, nonRetryableIfPermanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Billing-Event-ID", ev.ID)
	req.Header.Set("X-Billing-Signature", "sha256="+Sign(p.WebhookSecret, body))
	res, err := webhook.NewClient(a.AllowPrivateWebhooks).Do(req)
	var refused *webhook.RefusedError
	if errors.As(err, &refused) {
		// Retrying won't change where the URL leads; staff must change it.
		return StepResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("webhook of product %d refused: %s; webhooks reach only public addresses unless WEBHOOK_ALLOW_PRIVATE=true",
				p.ID, refused), ErrWebhookRefused, nil)
	}
	if err != nil {
		return StepResult{}, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode/100 != 2 {
		return StepResult{}, fmt.Errorf("webhook %s answered %s", p.WebhookURL, res.Status)
	}
	return StepResult{Note: "delivered " + ev.ID}, nil
}

// Sign returns the hex HMAC-SHA256 of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// LogStep is an example custom step: it writes the milestone to the
// worker's log. Copy it to write your own (see the README).
func (a *Activities) LogStep(ctx context.Context, in StepInput) (StepResult, error) {
	a.Log.InfoContext(ctx, "custom step", "subscription", in.SubscriptionID, "milestone", in.Milestone, "period", in.Period)
	return StepResult{Note: "logged"}, nil
}
