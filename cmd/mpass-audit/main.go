// Command mpass-audit audits how pupils' personal data flows through MPASSid: it
// ingests attribute releases and uses, judges them against the agreement terms in Rego
// and reports to each controller's data-protection officer.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says otherwise: a national
// audit then collects garbage more often instead of growing past what OPH's machines
// give it (SQLite's page caches come on top).
const memoryLimit = 128 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	m.Close()
	os.Exit(code)
}
