// Command mpass-audit audits how pupils' personal data flows through MPASSid: it
// ingests attribute releases and uses, judges them against the agreement terms in Rego
// and reports to each controller's data-protection officer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	m.Close()
	os.Exit(code)
}
