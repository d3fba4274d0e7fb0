package main

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// mustRunMain runs the REST API of a Main, on a free port of 127.0.0.1,
// built from the environment's configuration as change changes it, and
// closes it when the test ends: the end-to-end tests' way to the system in
// their own process (WTF Dial's MustRunMain is the model). Mail and SMS go
// to files in a temporary folder.
func mustRunMain(t *testing.T, change func(*Config)) *Main {
	t.Helper()
	cfg, err := LoadConfig()
	require.NoError(t, err)
	cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	cfg.SMTPAddr, cfg.TwilioAccountSID = "", ""
	cfg.MailDir, cfg.SMSLog = filepath.Join(cfg.DataDir, "mail"), filepath.Join(cfg.DataDir, "sms.log")
	change(&cfg)
	m := NewMain(cfg)
	m.Log = slog.New(slog.DiscardHandler)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	require.NoError(t, m.Open(t.Context()))
	require.NoError(t, m.StartAPI())
	return m
}
