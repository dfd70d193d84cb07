// Command tocsin runs the breach-response orchestrator (dev, serve, worker)
// and is its client (inventory, incident, outbox).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tocsin/tocsin/internal/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		msg := err.Error()
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			msg = apiErr.Message
		}
		fmt.Fprintln(os.Stderr, "tocsin:", msg)
		os.Exit(1)
	}
}
