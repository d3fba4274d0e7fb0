// Package activities holds the Temporal activities: the steps of a workflow
// that touch the outside world (the database, mail, SMS, webhooks).
package activities

import (
	"context"
	"crypto/tls"
	"log/slog"

	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/metrics"
	"github.com/tempobill/billing/store"
)

// Activities holds the dependencies of every activity. Its exported methods
// are the activities; workflows call them through typed method values.
type Activities struct {
	Store *store.Store
	Mail  Mailer
	SMS   Texter
	// MailFrom is the sender address of notices, unless a product names a reply-to.
	MailFrom string
	// DefaultLanguage is the language of templates when neither the
	// recipient's nor the customer's has one, until the global settings are
	// stored (then theirs); "" is English.
	DefaultLanguage string
	// Steps are the custom lifecycle steps products can name.
	Steps []Step
	// AllowPrivateWebhooks lets the Webhook step reach loopback and private
	// addresses (WEBHOOK_ALLOW_PRIVATE); otherwise it connects only to public ones.
	AllowPrivateWebhooks bool
	Log                  *slog.Logger
	// PublicURL is the panel's address (PUBLIC_URL), under which the links
	// of the mail gateway's notices lead: [TICKET_URL], [REGISTER_URL].
	PublicURL string
	// MailGatewayKey opens the passwords of the mail gateways
	// (MAIL_GATEWAY_KEY); without it no mailbox is read.
	MailGatewayKey *secret.Key
	// MailGatewayTLS, if set, is the TLS configuration of every mailbox
	// connection (tests trust a self-signed certificate); nil: the
	// system's roots.
	MailGatewayTLS *tls.Config
	// MailProcessor, if set, stands in for ProcessMail in PollMailbox, so
	// that tests can count calls and make one fail; nil in production.
	MailProcessor func(context.Context, ProcessMailInput) (ProcessMailResult, error)
	// Metrics counts charges and notice deliveries; nil counts nothing.
	Metrics *metrics.Metrics
}

// Mailer sends one email and returns its Message-ID.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// Texter sends one text message and returns the provider's message ID.
type Texter interface {
	Send(ctx context.Context, to, body string) (string, error)
}
