// Command envoi is the whole product in one binary: `envoi serve` runs the
// web UI, the API, the workers and the scheduler (see internal/cli).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"envoi/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
