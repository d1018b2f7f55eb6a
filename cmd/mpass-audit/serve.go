package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	apihttp "github.com/opetushallitus/mpass-audit/internal/http"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

func (m *Main) serveCommand() *cobra.Command {
	var addr, schedule, cert, key string
	cmd := &cobra.Command{
		Use:         "serve",
		Annotations: readOnlyCommand(),
		Short:       "Serve the web pages for DPOs, the JSON API and scheduled audits",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if schedule != "" {
				if _, err := apihttp.ParseSchedule(schedule); err != nil {
					return err // refused at start: never serve without the schedule asked for
				}
			}
			a, err := m.auditor(ctx)
			if err != nil {
				return err
			}
			x, err := m.openExtractor(ctx)
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewJSONHandler(m.Stderr, nil))
			a.Logger = logger
			s := apihttp.NewServer(a.DB, a, x, logger)
			if err := s.Open(addr, cert, key); err != nil {
				return err
			}
			scheme := "http"
			if cert != "" {
				scheme = "https"
			}
			fmt.Fprintf(m.Stdout, "mpass-audit serving on %s://%s\n", scheme, s.Addr())
			if schedule != "" {
				go func() {
					if err := s.Schedule(ctx, schedule, time.Now); err != nil {
						logger.Error("schedule", "err", err)
					}
				}()
			}
			<-ctx.Done()
			shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return s.Close(shutdown)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&schedule, "schedule", "", `cron spec of the monthly audit, e.g. "0 3 1 * *" (previous month, all controllers)`)
	f.StringVar(&cert, "tls-cert", "", "TLS certificate file (cookies are then Secure)")
	f.StringVar(&key, "tls-key", "", "TLS key file")
	return cmd
}

func (m *Main) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens (only their hashes are stored)", Annotations: readOnlyCommand()}
	var role, name string
	var controllers []string
	create := &cobra.Command{
		Use:   "create --role dpo|auditor|ingest [--controller OID]...",
		Short: "Print a new token once",
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			secret, t, err := db.CreateToken(cmd.Context(), role, name, controllers)
			if err != nil {
				return err
			}
			fmt.Fprintln(m.Stdout, secret)
			fmt.Fprintf(m.Stderr, "token %s (%s) created; it is shown only now\n", t.ID, t.Role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "dpo, auditor or ingest")
	create.Flags().StringArrayVar(&controllers, "controller", nil, "controller OID a dpo token sees (repeatable)")
	create.Flags().StringVar(&name, "name", "", "who holds the token")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token and end its sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			return db.RevokeToken(cmd.Context(), args[0])
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (ids, roles, controllers; never secrets)",
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			tokens, err := db.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			for _, t := range tokens {
				state := "live"
				if t.Revoked != nil {
					state = "revoked " + t.Revoked.Format(time.DateOnly)
				}
				fmt.Fprintf(m.Stdout, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, mpass.Printable(fmt.Sprint(t.Controllers)), mpass.Printable(t.Name), state)
			}
			return nil
		},
	}
	cmd.AddCommand(create, revoke, list)
	return cmd
}
