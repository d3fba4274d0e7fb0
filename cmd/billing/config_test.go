package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestSettingsFromEnvironment: the variables that were the policy are the
// settings' defaults, read as before (lists in any order, a day repeated
// once); out of range, they stop the start with their name.
func TestSettingsFromEnvironment(t *testing.T) {
	t.Setenv("LOW_MONEY_EXPIRE_PERIOD", "1, 3 3 0")
	t.Setenv("NEAR_DELETE_PERIOD", "2")
	t.Setenv("GRACE_DAYS", "20")
	t.Setenv("SUSPEND_AFTER_DAYS", "0")
	t.Setenv("UNPAID_ORDER_DAYS", "4")
	t.Setenv("MAX_UNPAID_ORDERS", "9")
	cfg, err := LoadConfig()
	require.NoError(t, err)
	want := billing.DefaultSettings()
	want.LowMoneyExpirePeriod, want.NearDeletePeriod = []int{3, 1, 0}, []int{2}
	want.GraceDays, want.SuspendAfterDays, want.UnpaidOrderDays, want.MaxUnpaidOrders = 20, 0, 4, 9
	require.Equal(t, want, cfg.Settings)

	for name, value := range map[string]string{"NEAR_DELETE_PERIOD": "-1", "GRACE_DAYS": "3651", "UNPAID_ORDER_DAYS": "0",
		"MAX_UNPAID_ORDERS": "0"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			_, err := LoadConfig()
			require.ErrorContains(t, err, name)
		})
	}
}

// TestMessageRateFromEnvironment: MESSAGE_RATE is 10 emails a second
// unless set; a rate of 0 or less, or not a number, stops the start.
func TestMessageRateFromEnvironment(t *testing.T) {
	cfg, err := LoadConfig()
	require.NoError(t, err)
	require.Equal(t, 10.0, cfg.MessageRate)
	t.Setenv("MESSAGE_RATE", "2.5")
	cfg, err = LoadConfig()
	require.NoError(t, err)
	require.Equal(t, 2.5, cfg.MessageRate)
	for _, v := range []string{"0", "-1", "fast", "NaN"} {
		t.Setenv("MESSAGE_RATE", v)
		_, err := LoadConfig()
		require.ErrorContains(t, err, "MESSAGE_RATE", v)
	}
}

// TestWorkerTuningFromEnvironment: WORKFLOW_CACHE_SIZE and WORKER_POLLERS
// are 0 (no workflow cache; the SDK's 2 pollers) unless set; anything but a
// whole number in range stops the start.
func TestWorkerTuningFromEnvironment(t *testing.T) {
	cfg, err := LoadConfig()
	require.NoError(t, err)
	require.Zero(t, cfg.WorkflowCacheSize)
	require.Zero(t, cfg.WorkerPollers)
	t.Setenv("WORKFLOW_CACHE_SIZE", "500")
	t.Setenv("WORKER_POLLERS", "8")
	cfg, err = LoadConfig()
	require.NoError(t, err)
	require.Equal(t, 500, cfg.WorkflowCacheSize)
	require.Equal(t, 8, cfg.WorkerPollers)
	for _, v := range []string{"-1", "many", "101"} {
		t.Setenv("WORKER_POLLERS", v)
		_, err := LoadConfig()
		require.ErrorContains(t, err, "WORKER_POLLERS", v)
	}
	t.Setenv("WORKER_POLLERS", "")
	t.Setenv("WORKFLOW_CACHE_SIZE", "-1")
	_, err = LoadConfig()
	require.ErrorContains(t, err, "WORKFLOW_CACHE_SIZE")
}

// TestRemindersEveryFromEnvironment: the reminders schedule runs every
// minute unless REMINDERS_EVERY says otherwise, from a second to an hour.
func TestRemindersEveryFromEnvironment(t *testing.T) {
	cfg, err := LoadConfig()
	require.NoError(t, err)
	require.Equal(t, time.Minute, cfg.RemindersEvery)
	t.Setenv("REMINDERS_EVERY", "15s")
	cfg, err = LoadConfig()
	require.NoError(t, err)
	require.Equal(t, 15*time.Second, cfg.RemindersEvery)
	for _, v := range []string{"0s", "500ms", "2h", "often"} {
		t.Setenv("REMINDERS_EVERY", v)
		_, err := LoadConfig()
		require.ErrorContains(t, err, "REMINDERS_EVERY", v)
	}
}

// TestPublicURL: PUBLIC_URL, the client panel's address in links, is
// http://localhost:8080 unless set; anything but an http(s) URL stops the start.
func TestPublicURL(t *testing.T) {
	cfg, err := LoadConfig()
	require.NoError(t, err)
	require.Equal(t, "http://localhost:8080", cfg.PublicURL)
	t.Setenv("PUBLIC_URL", "https://panel.example.com")
	cfg, err = LoadConfig()
	require.NoError(t, err)
	require.Equal(t, "https://panel.example.com", cfg.PublicURL)
	t.Setenv("PUBLIC_URL", "panel.example.com")
	_, err = LoadConfig()
	require.ErrorContains(t, err, "PUBLIC_URL")
}

// TestMailGatewayKeyFromEnvironment: MAIL_GATEWAY_KEY is read as base64
// of 32 bytes; a wrong one stops the start with its name; "billing dev"
// makes one when it is unset and reads the same one on the next start.
func TestMailGatewayKeyFromEnvironment(t *testing.T) {
	cfg, err := LoadConfig()
	require.NoError(t, err)
	require.Nil(t, cfg.MailGatewayKey)
	t.Setenv("MAIL_GATEWAY_KEY", "dG9vIHNob3J0")
	_, err = LoadConfig()
	require.ErrorContains(t, err, "MAIL_GATEWAY_KEY")
	t.Setenv("MAIL_GATEWAY_KEY", "")

	m := &Main{Config: Config{DataDir: t.TempDir()}}
	require.NoError(t, m.devMailGatewayKey())
	nonce, sealed, err := m.Config.MailGatewayKey.Seal("pw")
	require.NoError(t, err)
	again := &Main{Config: Config{DataDir: m.Config.DataDir}}
	require.NoError(t, again.devMailGatewayKey())
	got, err := again.Config.MailGatewayKey.Open(nonce, sealed)
	require.NoError(t, err)
	require.Equal(t, "pw", got)
}
