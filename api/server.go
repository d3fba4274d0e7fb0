// Package api is the REST API (Echo) that staff and clients use: customers,
// users, payers, products, balances and payments under /api/v1.
package api

import (
	"cmp"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/metrics"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/workflows"
)

// Server holds what the handlers need. Its methods are the handlers.
type Server struct {
	store     *store.Store
	workflows *workflows.Client
	log       *slog.Logger
	echo      *echo.Echo
	actions   map[string]string // "METHOD /path" -> action name for the audit log
	// stepNames are the custom lifecycle steps products may name.
	stepNames []string
	// defaults are the settings until some are stored (see settings).
	defaults billing.Settings
	// open lists the public routes ("GET /readyz"): they never look at a token.
	open map[string]bool
	// allowPrivateWebhooks lets webhook URLs lead to private addresses.
	allowPrivateWebhooks bool
	// publicURL is where the links of the account notices lead (PUBLIC_URL).
	publicURL string
	// mailFrom is the sender address of notices (MAIL_FROM), whose domain
	// the Message-IDs of the mails about tickets carry.
	mailFrom string
	// messageRate is how many emails a second a message to customers is sent at.
	messageRate float64
	// firstLockout is the wait after the free failed sign-ins (1 s), doubling
	// with each further failure.
	firstLockout time.Duration
	// temporal and taskQueue: the mail gateways' schedules are set with them.
	temporal  client.Client
	taskQueue string
	// mailGatewayKey seals the gateways' passwords (nil: none configured);
	// mailGatewayTLS overrides the TLS of "test connection" (tests).
	mailGatewayKey *secret.Key
	mailGatewayTLS *tls.Config
	// metrics is served at /metrics.
	metrics http.Handler
	// gatewaysDirty: a gateway's schedule could not be set; the reconciler
	// sets them all again.
	gatewaysDirty atomic.Bool
	// queueMailNotice queues a gateway notice to an address
	// (activities.QueueMailNotice; tests watch the calls).
	queueMailNotice func(ctx context.Context, tx *store.Store, event, to, key string, vars map[string]string, defaultLanguage string) error
}

// Options configure a Server.
type Options struct {
	// TaskQueue is where subscription workflows are started.
	TaskQueue string
	// Settings are the global settings until the first change through the
	// API stores some (environment variables); DefaultSettings if left empty.
	Settings billing.Settings
	// StepNames are the custom lifecycle steps the worker registered.
	StepNames []string
	// AllowPrivateWebhooks lets product webhook URLs lead to loopback and
	// private addresses (WEBHOOK_ALLOW_PRIVATE); otherwise saving one answers 422.
	AllowPrivateWebhooks bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// PublicURL is the address of the client panel, under which the links of
	// the account notices lead (PUBLIC_URL); DefaultPublicURL if empty.
	PublicURL string
	// MessageRate is how many emails a second a message to customers is
	// sent at (MESSAGE_RATE; workflows.DefaultMessageRate if 0).
	MessageRate float64
	// MailFrom is the sender address of notices (MAIL_FROM): the mails
	// about tickets thread under its domain ("billing" if empty).
	MailFrom string
	// MailGatewayKey seals the passwords of the mail gateways
	// (MAIL_GATEWAY_KEY); without it creating a gateway is refused.
	MailGatewayKey *secret.Key
	// Metrics is the process's registry, served at /metrics to staff and
	// counting the requests per route; nil: the API makes its own.
	Metrics *metrics.Metrics
	// MailGatewayTLS, if set, is the TLS configuration of "test connection"
	// (tests trust a self-signed certificate); nil: the system's roots.
	MailGatewayTLS *tls.Config
}

// DefaultPublicURL is the address the links of the account notices lead to
// unless PUBLIC_URL says otherwise.
const DefaultPublicURL = "http://localhost:8080"

// New returns a Server with every route registered.
func New(st *store.Store, tc client.Client, log *slog.Logger, opts Options) *Server {
	if opts.TaskQueue == "" {
		opts.TaskQueue = workflows.TaskQueue
	}
	if reflect.ValueOf(opts.Settings).IsZero() {
		opts.Settings = billing.DefaultSettings()
	}
	s := &Server{store: st, workflows: workflows.NewClient(tc, opts.TaskQueue), log: log, echo: echo.New(),
		defaults: opts.Settings, stepNames: opts.StepNames, allowPrivateWebhooks: opts.AllowPrivateWebhooks,
		publicURL:   strings.TrimSuffix(cmp.Or(opts.PublicURL, DefaultPublicURL), "/"),
		mailFrom:    opts.MailFrom,
		messageRate: cmp.Or(opts.MessageRate, workflows.DefaultMessageRate), firstLockout: time.Second,
		temporal: tc, taskQueue: opts.TaskQueue, mailGatewayKey: opts.MailGatewayKey, mailGatewayTLS: opts.MailGatewayTLS,
		queueMailNotice: activities.QueueMailNotice}
	e, err := s.echo, error(nil)
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIP(opts.TrustedProxies)
	if opts.Metrics == nil {
		if opts.Metrics, err = metrics.New(st); err != nil {
			panic(err) // only if two metrics share a name: a bug
		}
	}
	s.metrics = opts.Metrics.Handler()
	e.Use(middleware.Recover(), opts.Metrics.Echo, limitHeaders, allowHead, bodyLimit, s.requestLog, s.authenticate, s.audit, refuseBody)
	s.routes()
	return s
}

// clientIP finds the client's address: the TCP peer's, unless the peer is one
// of the trusted proxies; then X-Forwarded-For is read from the right, past
// every trusted proxy, to the first address that isn't one. Without trusted
// proxies the header is ignored, so the sign-in slow-down per address can't
// be dodged by sending it.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// routes is the whole API, one line a route, each with who may call it:
// s.public(...) (anyone; the token is not looked at), signedIn, staffOnly(permission), ownCustomer(permission) (a client
// for their own customer, or staff with the permission), clientOrStaff(permission)
// (the handler keeps a client to their own objects).
func (s *Server) routes() {
	e := s.echo
	s.public(e.GET("/healthz", s.health))
	s.public(e.GET("/readyz", s.ready))
	e.GET("/metrics", s.serveMetrics, staffOnly(""))

	v1 := e.Group("/api/v1")
	s.public(v1.GET("/openapi.json", s.openAPI))

	s.public(v1.POST("/auth/login", s.clientLogin))
	s.public(v1.POST("/auth/staff/login", s.staffLogin))
	s.public(v1.POST("/auth/register", s.selfRegister))
	s.public(v1.POST("/auth/set-password", s.setPassword))
	s.public(v1.POST("/auth/activate", s.activate))
	s.public(v1.POST("/auth/activation/resend", s.resendActivation))
	s.public(v1.POST("/auth/verify", s.verifyAccount))
	v1.POST("/auth/logout", s.logout, signedIn)
	v1.GET("/auth/me", s.me, signedIn)
	v1.POST("/auth/return", s.returnToStaff, signedIn)

	v1.GET("/staff", s.listStaff, staffOnly(billing.PermStaffManage))
	v1.POST("/staff", s.createStaff, staffOnly(billing.PermStaffManage))
	v1.GET("/staff/:id", s.getStaff, staffOnly(billing.PermStaffManage))
	v1.PATCH("/staff/:id", s.updateStaff, staffOnly(""))                                      // others: staff.manage, checked in the handler
	v1.GET("/staff/:id/notification-settings", s.staffNotificationSettings, staffOnly(""))    // others: staff.manage, checked in the handler
	v1.PUT("/staff/:id/notification-settings", s.setStaffNotificationSettings, staffOnly("")) // others: staff.manage, checked in the handler
	v1.GET("/api-keys", s.listAPIKeys, staffOnly(""))
	v1.POST("/api-keys", s.createAPIKey, staffOnly(""))
	v1.DELETE("/api-keys/:id", s.revokeAPIKey, staffOnly(""))
	v1.GET("/audit", s.listAudit, staffOnly(billing.PermAuditRead))

	v1.POST("/customers", s.createCustomer, staffOnly(billing.PermCustomersWrite))
	v1.GET("/customers", s.listCustomers, staffOnly(billing.PermCustomersRead))
	v1.GET("/customers/:id", s.getCustomer, ownCustomer(billing.PermCustomersRead))
	v1.PATCH("/customers/:id", s.updateCustomer, ownCustomer(billing.PermCustomersWrite))
	v1.DELETE("/customers/:id", s.deleteCustomer, staffOnly(billing.PermCustomersWrite))
	v1.POST("/customers/:id/impersonate", s.impersonate, staffOnly(billing.PermImpersonate))

	v1.GET("/customers/:id/users", s.listUsers, ownCustomer(billing.PermCustomersRead))
	v1.POST("/customers/:id/users", s.createUser, ownCustomer(billing.PermCustomersWrite))
	v1.GET("/customers/:id/users/:user_id", s.getUser, ownCustomer(billing.PermCustomersRead))
	v1.PATCH("/customers/:id/users/:user_id", s.updateUser, ownCustomer(billing.PermCustomersWrite))
	v1.DELETE("/customers/:id/users/:user_id", s.deleteUser, ownCustomer(billing.PermCustomersWrite))

	v1.GET("/customers/:id/payers", s.listPayers, ownCustomer(billing.PermCustomersRead))
	v1.POST("/customers/:id/payers", s.createPayer, ownCustomer(billing.PermCustomersWrite))
	v1.GET("/customers/:id/payers/:payer_id", s.getPayer, ownCustomer(billing.PermCustomersRead))
	v1.PUT("/customers/:id/payers/:payer_id", s.updatePayer, ownCustomer(billing.PermCustomersWrite))
	v1.DELETE("/customers/:id/payers/:payer_id", s.deletePayer, ownCustomer(billing.PermCustomersWrite))
	v1.POST("/customers/:id/payers/:payer_id/verify", s.verifyPayer, staffOnly(billing.PermCustomersWrite))
	s.public(v1.POST("/payer-verifications", s.confirmPayer))

	v1.GET("/customers/:id/balance", s.getBalance, ownCustomer(billing.PermCustomersRead))
	v1.GET("/customers/:id/ledger", s.listLedger, ownCustomer(billing.PermCustomersRead))
	v1.POST("/customers/:id/ledger", s.createAdjustment, staffOnly(billing.PermLedgerWrite))
	v1.GET("/customers/:id/expenses", s.listExpenses, ownCustomer(billing.PermCustomersRead))
	v1.GET("/customers/:id/incidents", s.listIncidents, ownCustomer(billing.PermCustomersRead))
	v1.POST("/customers/:id/incidents", s.grantIncidents, staffOnly(billing.PermSupportManage))
	v1.GET("/customers/:id/discounts", s.listDiscounts, ownCustomer(billing.PermCustomersRead))
	v1.POST("/customers/:id/discounts", s.createDiscount, staffOnly(billing.PermCustomersWrite))
	v1.GET("/customers/:id/discounts/:discount_id", s.getDiscount, ownCustomer(billing.PermCustomersRead))
	v1.PUT("/customers/:id/discounts/:discount_id", s.updateDiscount, staffOnly(billing.PermCustomersWrite))
	v1.DELETE("/customers/:id/discounts/:discount_id", s.endDiscount, staffOnly(billing.PermCustomersWrite))

	// Invoices are read-only: no route changes one; a credit note corrects one.
	v1.GET("/invoices", s.listInvoices, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/invoices/:id", s.getInvoice, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/invoices/:id/html", s.getInvoiceHTML, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/invoices/:id/pdf", s.getInvoicePDF, clientOrStaff(billing.PermCustomersRead))
	// A credit note gives money back: ledger.write, like a ledger adjustment.
	v1.POST("/invoices/:id/credit-notes", s.createCreditNote, staffOnly(billing.PermLedgerWrite))
	v1.GET("/credit-notes", s.listCreditNotes, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/credit-notes/:id", s.getCreditNote, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/credit-notes/:id/html", s.getCreditNoteHTML, clientOrStaff(billing.PermCustomersRead))
	v1.GET("/credit-notes/:id/pdf", s.getCreditNotePDF, clientOrStaff(billing.PermCustomersRead))

	v1.POST("/products", s.createProduct, staffOnly(billing.PermProductsWrite))
	v1.GET("/products", s.listProducts, clientOrStaff(""))
	v1.GET("/products/:id", s.getProduct, clientOrStaff(""))
	v1.PUT("/products/:id", s.updateProduct, staffOnly(billing.PermProductsWrite))

	v1.POST("/payments", s.createPayment, clientOrStaff(billing.PermPaymentsWrite))
	v1.GET("/payments", s.listPayments, clientOrStaff(billing.PermPaymentsRead))
	v1.GET("/payments/:id", s.getPayment, clientOrStaff(billing.PermPaymentsRead))
	v1.POST("/payments/:id/paid", s.markPaymentPaid, staffOnly(billing.PermPaymentsWrite))
	v1.POST("/payments/:id/cancel", s.cancelPayment, staffOnly(billing.PermPaymentsWrite))

	v1.POST("/subscriptions", s.createSubscription, clientOrStaff(billing.PermSubsWrite))
	v1.GET("/subscriptions", s.listSubscriptions, clientOrStaff(billing.PermSubsRead))
	v1.GET("/subscriptions/:id", s.getSubscription, clientOrStaff(billing.PermSubsRead))
	v1.GET("/subscriptions/:id/notices", s.listNotices, clientOrStaff(billing.PermSubsRead))
	v1.POST("/subscriptions/:id/suspend", s.suspendSubscription, staffOnly(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/resume", s.resumeSubscription, staffOnly(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/cancel", s.cancelSubscription, clientOrStaff(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/renew", s.renewSubscription, clientOrStaff(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/change-product", s.changeProduct, staffOnly(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/auto-renew", s.setAutoRenew, clientOrStaff(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/extend", s.extendSubscription, staffOnly(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/updates-until", s.setUpdatesUntil, staffOnly(billing.PermSubsWrite))
	v1.PUT("/subscriptions/:id/parameters", s.setParameters, clientOrStaff(billing.PermSubsWrite))
	v1.POST("/subscriptions/:id/usage", s.reportUsage, staffOnly(billing.PermSubsWrite))
	v1.GET("/subscriptions/:id/usage", s.getUsage, clientOrStaff(billing.PermSubsRead))

	v1.GET("/notification-events", s.listNotificationEvents, staffOnly(""))
	v1.POST("/notification-events/:event/preview", s.previewEvent, staffOnly(billing.PermNoticesWrite)) // a customer's data: customers.read too
	v1.GET("/message-templates", s.listMessageTemplates, staffOnly(""))
	v1.GET("/message-templates/:event/:channel/:language", s.getMessageTemplate, staffOnly(""))
	v1.PUT("/message-templates/:event/:channel/:language", s.setMessageTemplate, staffOnly(billing.PermNoticesWrite))
	v1.DELETE("/message-templates/:event/:channel/:language", s.deleteMessageTemplate, staffOnly(billing.PermNoticesWrite))
	v1.GET("/notifications", s.listNotifications, clientOrStaff(billing.PermSubsRead))
	v1.POST("/notifications/:id/resend", s.resendNotification, staffOnly(billing.PermNoticesWrite))
	// The texts of the service notices before message templates: English only.
	v1.GET("/notice-templates", s.listNoticeTemplates, staffOnly(""))
	v1.PUT("/notice-templates/:milestone", s.setNoticeTemplate, staffOnly(billing.PermNoticesWrite))
	v1.DELETE("/notice-templates/:milestone", s.resetNoticeTemplate, staffOnly(billing.PermNoticesWrite))

	v1.POST("/messages", s.createMessage, staffOnly(billing.PermNoticesWrite))
	v1.GET("/messages", s.listMessages, staffOnly(billing.PermSubsRead))
	v1.GET("/messages/:id", s.getMessage, staffOnly(billing.PermSubsRead))
	v1.POST("/messages/:id/cancel", s.cancelMessage, staffOnly(billing.PermNoticesWrite))
	v1.GET("/message-texts", s.listMessageTexts, staffOnly(billing.PermSubsRead))
	v1.POST("/message-texts", s.createMessageText, staffOnly(billing.PermNoticesWrite))
	v1.GET("/message-texts/:id", s.getMessageText, staffOnly(billing.PermSubsRead))
	v1.PUT("/message-texts/:id", s.updateMessageText, staffOnly(billing.PermNoticesWrite))
	v1.DELETE("/message-texts/:id", s.deleteMessageText, staffOnly(billing.PermNoticesWrite))

	// The support center: departments, their staff, tickets. Staff see and
	// answer the tickets of their departments (admins: all); the handlers
	// answer 404 for any other ticket, as to a client naming another
	// customer's.
	v1.GET("/departments", s.listDepartments, signedIn) // a client: only the support center's, name and incidents
	v1.POST("/departments", s.createDepartment, staffOnly(billing.PermSupportManage))
	v1.GET("/departments/:id", s.getDepartment, staffOnly(billing.PermSupportManage))
	v1.PATCH("/departments/:id", s.updateDepartment, staffOnly(billing.PermSupportManage))
	v1.DELETE("/departments/:id", s.deleteDepartment, staffOnly(billing.PermSupportManage))
	// Incoming mail gateways: mailboxes polled into tickets (see README "Mail gateways").
	v1.GET("/mail-gateways", s.listMailGateways, staffOnly(billing.PermGatewaysManage))
	v1.POST("/mail-gateways", s.createMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.GET("/mail-gateways/:id", s.getMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.PATCH("/mail-gateways/:id", s.updateMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.DELETE("/mail-gateways/:id", s.deleteMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.POST("/mail-gateways/:id/test", s.testMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.POST("/mail-gateways/:id/poll", s.pollMailGateway, staffOnly(billing.PermGatewaysManage))
	v1.POST("/tickets", s.createTicket, clientOrStaff(""))
	v1.GET("/tickets", s.listTickets, clientOrStaff(""))
	v1.GET("/tickets/:id", s.getTicket, clientOrStaff(""))
	v1.PATCH("/tickets/:id", s.updateTicket, clientOrStaff(""))
	v1.POST("/tickets/:id/messages", s.postTicketMessage, clientOrStaff(""))
	v1.GET("/tickets/:id/attachments/:attachment_id", s.getAttachment, clientOrStaff("")) // the ticket's client or department staff
	// Incoming emails: mail the gateways could not file by themselves, for
	// the staff of their department (admins: all); others get 404.
	v1.GET("/incoming-emails", s.listIncomingEmails, staffOnly(""))
	v1.GET("/incoming-emails/:id", s.getIncomingEmail, staffOnly(""))
	v1.GET("/incoming-emails/:id/raw", s.getIncomingEmailRaw, staffOnly(""))
	v1.POST("/incoming-emails/:id/ticket", s.incomingEmailToTicket, staffOnly("")) // and a member of the ticket's department
	v1.POST("/incoming-emails/:id/discard", s.discardIncomingEmail, staffOnly(""))
	// Pre-defined replies: any staff member; the handlers keep each to the replies of the caller's scopes.
	v1.GET("/predefined-replies", s.listPredefinedReplies, staffOnly(""))
	v1.POST("/predefined-replies", s.createPredefinedReply, staffOnly("")) // all, department: support.manage, checked in the handler
	v1.GET("/predefined-replies/:id", s.getPredefinedReply, staffOnly(""))
	v1.PUT("/predefined-replies/:id", s.updatePredefinedReply, staffOnly(""))
	v1.DELETE("/predefined-replies/:id", s.deletePredefinedReply, staffOnly(""))
	v1.GET("/tickets/:id/predefined-replies", s.ticketPredefinedReplies, staffOnly("")) // members of the ticket's department
	// Support: tasks of a department, for its members (and admins); the
	// handlers answer 404 for another department's.
	v1.GET("/tasks", s.listTasks, staffOnly(""))
	v1.POST("/tasks", s.createTask, staffOnly(""))
	v1.GET("/tasks/:id", s.getTask, staffOnly(""))
	v1.PATCH("/tasks/:id", s.updateTask, staffOnly(""))

	v1.GET("/settings", s.getSettings, staffOnly(""))
	v1.PATCH("/settings", s.updateSettings, staffOnly(billing.PermSettingsManage))

	s.actions = actionNames(e.Routes())
}

// ServeHTTP makes the Server an http.Handler. HEAD is answered on every GET route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.echo.ServeHTTP(w, headAsGet(r))
}

// Routes lists the registered routes (method and path) for documentation checks.
func (s *Server) Routes() []*echo.Route {
	return s.echo.Routes()
}

func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request",
			slog.String("method", method(c)), slog.String("path", c.Request().URL.Path),
			slog.Int("status", c.Response().Status))
		return nil
	}
}

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 when PostgreSQL and Temporal both answer, else 503 saying which doesn't.
func (s *Server) ready(c echo.Context) error {
	ctx := c.Request().Context()
	checks := map[string]string{"postgres": "ok", "temporal": "ok"}
	status := http.StatusOK
	// Anyone may ask, so the answer names the dependency and nothing about
	// it (no host, user or database); the log has the error.
	if err := s.store.Ping(ctx); err != nil {
		checks["postgres"], status = "unreachable", http.StatusServiceUnavailable
		s.log.Warn("not ready: PostgreSQL unreachable", "err", err)
	}
	if err := s.workflows.CheckHealth(ctx); err != nil {
		checks["temporal"], status = "unreachable", http.StatusServiceUnavailable
		s.log.Warn("not ready: Temporal unreachable", "err", err)
	}
	return c.JSON(status, checks)
}

// metrics answers in Prometheus' text format what the process's registry
// holds (see package metrics): the notices in each status, the
// subscriptions by status, the renewals due, the charges and deliveries
// counted, the requests per route, the Temporal SDK's metrics. Any staff
// session or API key may read it; Prometheus scrapes METRICS_ADDR instead.
func (s *Server) serveMetrics(c echo.Context) error {
	s.metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}
