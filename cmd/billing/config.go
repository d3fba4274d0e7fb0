package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/mailgateway/secret"
)

// Config is the whole configuration, read from environment variables:
//
//	DATABASE_URL        PostgreSQL URL (postgres://postgres@127.0.0.1:5432/billing?sslmode=disable)
//	TEMPORAL_ADDRESS    Temporal frontend host:port (127.0.0.1:7233)
//	TEMPORAL_NAMESPACE  Temporal namespace (default)
//	TEMPORAL_TASK_QUEUE task queue of the worker (billing)
//	HTTP_ADDR           address the REST API listens on (:8080)
//	METRICS_ADDR        address /metrics (Prometheus, no sign-in) is served on by "api", "worker" and "dev" (none)
//	OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP collector the traces are sent to (none: no traces)
//	LOG_LEVEL           debug, info, warn or error (info)
//	LOG_FORMAT          text or json (text)
//	SMTP_ADDR           SMTP server host:port; empty: mail is written as .eml files to MAIL_DIR
//	SMTP_USERNAME       SMTP user (none)
//	SMTP_PASSWORD       SMTP password (none)
//	SMTP_TLS            none, opportunistic or mandatory (opportunistic)
//	MAIL_FROM           sender address of notices (billing@example.com)
//	MAIL_DIR            folder of .eml files when SMTP_ADDR is empty (DATA_DIR/mail)
//	TWILIO_ACCOUNT_SID  Twilio account; empty: SMS are appended to SMS_LOG
//	TWILIO_AUTH_TOKEN   Twilio auth token
//	TWILIO_FROM         Twilio sender number
//	SMS_LOG             file SMS are written to without Twilio (DATA_DIR/sms.log)
//	TRUSTED_PROXIES     CIDRs of reverse proxies whose X-Forwarded-For is believed (none)
//	PUBLIC_URL          the client panel's address, under which the links of account and mail gateway notices lead (http://localhost:8080)
//	MAIL_GATEWAY_KEY    32 random bytes in base64 that seal the mail gateways' passwords (none: gateways can't be created or polled; "billing dev" makes one)
//
// Defaults of the global settings, until the first PATCH /api/v1/settings
// stores them (then these are ignored):
//
//	LOW_MONEY_EXPIRE_PERIOD  days before renewal of low-balance/expiry notices (5 4 3 2 1 0)
//	NEAR_DELETE_PERIOD  days before deletion of "deleted soon" notices (7 5 3 1)
//	GRACE_DAYS          days a suspended service is kept unless its product says (14)
//	SUSPEND_AFTER_DAYS  days after a failed renewal before suspension (1)
//	UNPAID_ORDER_DAYS   days an order waits for its first payment before it expires (3)
//	MAX_UNPAID_ORDERS   unpaid orders a customer may have at once (5)
//
// And:
//
//	WORKFLOW_CACHE_SIZE workflows a worker keeps in memory between tasks (0: none)
//	WORKER_POLLERS      task polls a worker keeps open, for workflow and for activity tasks each (0: the SDK's 2)
//	WEBHOOK_ALLOW_PRIVATE  true lets webhook URLs lead to loopback and private addresses (false)
//	MESSAGE_RATE        emails a second a message to customers is sent at, at most (10)
//	REMINDERS_EVERY     how often the reminders schedule sends the reminders due, 1s to 1h (1m; "billing dev": 1s, for products billed in seconds)
//
// Used by "billing dev" only:
//
//	DATA_DIR            where the dev Temporal store and logs live (.data)
//	TEMPORAL_CLI        path of the temporal CLI (found on PATH or in ~/.cache/billing/bin)
//	TEMPORAL_UI_PORT    port of the Temporal web UI (8233)
type Config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	HTTPAddr          string
	// MetricsAddr is where /metrics is served for Prometheus; "" none.
	MetricsAddr    string
	LogLevel       slog.Level
	LogFormat      string
	DataDir        string
	TemporalCLI    string
	TemporalUIPort string
	SMTPAddr       string
	SMTPUsername   string
	SMTPPassword   string
	SMTPTLS        string
	MailFrom       string
	// PublicURL is the client panel's address, under which the links of
	// notices lead.
	PublicURL        string
	MailDir          string
	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioFrom       string
	SMSLog           string
	// Settings are the global settings until the first change through the
	// API stores them (LOW_MONEY_EXPIRE_PERIOD ... MAX_UNPAID_ORDERS).
	Settings          billing.Settings
	TrustedProxies    []*net.IPNet
	WorkflowCacheSize int
	// WorkerPollers is how many task polls the worker keeps open (0: the
	// SDK's default; WORKER_POLLERS); "billing bench" sets it with -pollers.
	WorkerPollers int
	// WebhookAllowPrivate lets product webhooks reach loopback and private
	// networks; off, they reach only public addresses (server-side request forgery).
	WebhookAllowPrivate bool
	// MessageRate is how many emails a second a message to customers is
	// sent at (the API puts it in the message's workflow).
	MessageRate float64
	// MailGatewayKey seals the passwords of the incoming mail gateways
	// (MAIL_GATEWAY_KEY); nil when unset.
	MailGatewayKey *secret.Key
	// RemindersEvery is the interval of the reminders schedule
	// (REMINDERS_EVERY): a reminder goes out at most that long after its time.
	RemindersEvery time.Duration
}

// LoadConfig reads the configuration from the environment, with defaults.
func LoadConfig() (Config, error) {
	c := Config{
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/billing?sslmode=disable"),
		TemporalAddress:   env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         env("TEMPORAL_TASK_QUEUE", "billing"),
		HTTPAddr:          env("HTTP_ADDR", ":8080"),
		MetricsAddr:       env("METRICS_ADDR", ""),
		LogFormat:         env("LOG_FORMAT", "text"),
		DataDir:           env("DATA_DIR", ".data"),
		TemporalCLI:       env("TEMPORAL_CLI", ""),
		TemporalUIPort:    env("TEMPORAL_UI_PORT", "8233"),
		PublicURL:         strings.TrimSuffix(env("PUBLIC_URL", api.DefaultPublicURL), "/"),
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PUBLIC_URL must be an http or https URL such as https://billing.example.com, not %q", c.PublicURL)
	}
	c.SMTPAddr, c.SMTPUsername, c.SMTPPassword = env("SMTP_ADDR", ""), env("SMTP_USERNAME", ""), env("SMTP_PASSWORD", "")
	c.SMTPTLS, c.MailFrom = env("SMTP_TLS", "opportunistic"), env("MAIL_FROM", "billing@example.com")
	c.MailDir, c.SMSLog = env("MAIL_DIR", filepath.Join(c.DataDir, "mail")), env("SMS_LOG", filepath.Join(c.DataDir, "sms.log"))
	c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioFrom = env("TWILIO_ACCOUNT_SID", ""), env("TWILIO_AUTH_TOKEN", ""), env("TWILIO_FROM", "")
	if !billing.ValidEmail(c.MailFrom) {
		return c, fmt.Errorf("MAIL_FROM must be an email address, not %q", c.MailFrom)
	}
	var err error
	if c.Settings, err = settingsFromEnv(); err != nil {
		return c, err
	}
	if c.WorkflowCacheSize, err = strconv.Atoi(env("WORKFLOW_CACHE_SIZE", "0")); err != nil || c.WorkflowCacheSize < 0 {
		return c, fmt.Errorf("WORKFLOW_CACHE_SIZE must be a whole number, 0 or more")
	}
	if c.WorkerPollers, err = strconv.Atoi(env("WORKER_POLLERS", "0")); err != nil || c.WorkerPollers < 0 || c.WorkerPollers > 100 {
		return c, fmt.Errorf("WORKER_POLLERS must be a whole number from 0 to 100")
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if c.TrustedProxies, err = cidrs("TRUSTED_PROXIES"); err != nil {
		return c, err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("LOG_FORMAT must be text or json, not %q", c.LogFormat)
	}
	if c.WebhookAllowPrivate, err = strconv.ParseBool(env("WEBHOOK_ALLOW_PRIVATE", "false")); err != nil {
		return c, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE must be true or false")
	}
	if c.MessageRate, err = strconv.ParseFloat(env("MESSAGE_RATE", "10"), 64); err != nil || !(c.MessageRate > 0 && c.MessageRate <= 10000) {
		return c, fmt.Errorf("MESSAGE_RATE must be a number of emails a second, more than 0 and at most 10000")
	}
	if c.RemindersEvery, err = time.ParseDuration(env("REMINDERS_EVERY", "1m")); err != nil || c.RemindersEvery < time.Second || c.RemindersEvery > time.Hour {
		return c, fmt.Errorf("REMINDERS_EVERY must be a duration from 1s to 1h, such as 1m")
	}
	if k := env("MAIL_GATEWAY_KEY", ""); k != "" {
		if c.MailGatewayKey, err = secret.ParseKey(k); err != nil {
			return c, err
		}
	}
	return c, nil
}

// settingsFromEnv reads the defaults of the global settings: BILLmanager's,
// unless LOW_MONEY_EXPIRE_PERIOD, NEAR_DELETE_PERIOD, GRACE_DAYS,
// SUSPEND_AFTER_DAYS, UNPAID_ORDER_DAYS or MAX_UNPAID_ORDERS say otherwise.
// Lists of days may come in any order and repeat a day, as before they were
// settings; they are kept sorted, each day once.
func settingsFromEnv() (billing.Settings, error) {
	s := billing.DefaultSettings()
	var err error
	if s.LowMoneyExpirePeriod, err = days("LOW_MONEY_EXPIRE_PERIOD", s.LowMoneyExpirePeriod); err != nil {
		return s, err
	}
	if s.NearDeletePeriod, err = days("NEAR_DELETE_PERIOD", s.NearDeletePeriod); err != nil {
		return s, err
	}
	s.LowMoneyExpirePeriod, s.NearDeletePeriod = billing.SortDays(s.LowMoneyExpirePeriod), billing.SortDays(s.NearDeletePeriod)
	grace, err := days("GRACE_DAYS", []int{s.GraceDays})
	if err != nil || len(grace) != 1 {
		return s, fmt.Errorf("GRACE_DAYS must be one whole number of days")
	}
	suspend, err := days("SUSPEND_AFTER_DAYS", []int{s.SuspendAfterDays})
	if err != nil || len(suspend) != 1 {
		return s, fmt.Errorf("SUSPEND_AFTER_DAYS must be one whole number of days")
	}
	s.GraceDays, s.SuspendAfterDays = grace[0], suspend[0]
	unpaid, err := days("UNPAID_ORDER_DAYS", []int{s.UnpaidOrderDays})
	if err != nil || len(unpaid) != 1 || unpaid[0] < 1 {
		return s, fmt.Errorf("UNPAID_ORDER_DAYS must be one whole number of days, at least 1")
	}
	s.UnpaidOrderDays = unpaid[0]
	if s.MaxUnpaidOrders, err = strconv.Atoi(env("MAX_UNPAID_ORDERS", "5")); err != nil || s.MaxUnpaidOrders < 1 || s.MaxUnpaidOrders > billing.MaxUnpaidOrders {
		return s, fmt.Errorf("MAX_UNPAID_ORDERS must be a whole number from 1 to %d", billing.MaxUnpaidOrders)
	}
	for _, l := range []struct {
		name string
		days []int
	}{{"LOW_MONEY_EXPIRE_PERIOD", s.LowMoneyExpirePeriod}, {"NEAR_DELETE_PERIOD", s.NearDeletePeriod}} {
		if len(l.days) > billing.MaxNoticeDays {
			return s, fmt.Errorf("%s must list at most %d days", l.name, billing.MaxNoticeDays)
		}
	}
	return s, s.Validate()
}

// cidrs reads a list of CIDRs such as "10.0.0.0/8, 192.0.2.7" (a bare address is one host).
func cidrs(name string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.FieldsFunc(env(name, ""), func(r rune) bool { return r == ' ' || r == ',' }) {
		if !strings.Contains(f, "/") {
			if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
				f += "/32"
			} else {
				f += "/128"
			}
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%s must list addresses or CIDRs such as \"10.0.0.0/8, 192.0.2.7\", not %q", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// days reads a list of day counts such as "5 4 3 2 1 0" (commas allowed).
func days(name string, def []int) ([]int, error) {
	raw := env(name, "")
	if raw == "" {
		return def, nil
	}
	var out []int
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 3650 {
			return nil, fmt.Errorf("%s must list whole numbers of days from 0 to 3650, such as \"5 4 3 2 1 0\"", name)
		}
		out = append(out, n)
	}
	return out, nil
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Logger returns the process's logger.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// temporalCLI finds the temporal CLI: TEMPORAL_CLI, then PATH, then the
// cache that "make setup" installs into.
func (c Config) temporalCLI() (string, error) {
	if c.TemporalCLI != "" {
		return c.TemporalCLI, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "billing", "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := lookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the temporal CLI was not found: run `make setup` or set TEMPORAL_CLI")
}
