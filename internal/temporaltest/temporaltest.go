// Package temporaltest starts a real Temporal dev server for a test package:
// the CLI that "make setup" installs, with the project's search attributes.
package temporaltest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing/workflows"
)

// CLI finds the temporal CLI: TEMPORAL_CLI, ~/.cache/billing/bin, then PATH.
func CLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "billing", "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the temporal CLI was not found: run `make setup` or set TEMPORAL_CLI")
}

// Start starts an in-memory dev server on a free port and returns it; its
// Client() is connected. Stop it with Stop().
func Start(ctx context.Context) (*testsuite.DevServer, error) {
	cli, err := CLI()
	if err != nil {
		return nil, err
	}
	var args []string
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli,
		LogLevel:     "error",
		ExtraArgs:    args,
		ClientOptions: &client.Options{
			Namespace: "default",
			Logger:    tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		},
		Stdout: io.Discard,
		Stderr: io.Discard,
	})
}
