package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (m *Main) purgeCommand() *cobra.Command {
	var before string
	cmd := &cobra.Command{
		Use:   "purge --before DATE",
		Short: "Delete records and rejected lines older than DATE; runs and findings stay readable",
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			c, err := db.Purge(cmd.Context(), before)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "purged %d releases, %d uses, %d rejected lines before %s\n", c.Releases, c.Uses, c.Rejections, before)
			return nil
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "first day to keep (YYYY-MM-DD)")
	cmd.MarkFlagRequired("before")
	return cmd
}

func (m *Main) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the database with SQLite's online backup (safe while the service runs)",
		Long: `FILE must be a plain file path that does not exist yet (no file: URI, no ? or #).
The copy is made in a temporary file beside it and takes its name only when complete,
with mode 0600 (0640 with MPASS_AUDIT_FILE_MODE=0640). The key is not in the backup:
keep the key file (or MPASS_AUDIT_KEY) with it, apart; without its key a restored
database is refused by every command that pseudonymises.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := m.openDB(cmd.Context())
			if err != nil {
				return err
			}
			progress := func(copied, total int) {
				m.Logger.Info("backup progress", "pages", copied, "of", total)
			}
			if err := db.Backup(cmd.Context(), args[0], progress); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "backup written to %s (the key is not in it: keep the key file %s.key or MPASS_AUDIT_KEY with it, apart)\n", args[0], m.DBPath)
			return nil
		},
	}
}
