package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/opetushallitus/mpass-audit/internal/atomicfile"
	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// keyCommand holds the one way a key is ever replaced: explicitly, by someone who holds
// the current one (issue 14: a different or missing key is refused, never replaced).
func (m *Main) keyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "The pseudonymisation key"}
	var confirm bool
	rotate := &cobra.Command{
		Use:   "rotate --confirm",
		Short: "Replace the key file with a new random key (the current key must match the database)",
		Long: `Replaces the key file beside the database with a new random key and stores the new
key's check value. Pseudonyms are one-way, so the stored ones cannot be re-keyed:
records ingested after the rotation get pseudonyms unlinked to the stored ones, and a
pupil's old and new findings no longer meet. Rotate when the key may have leaked; the
old key is overwritten, not kept. A key given by MPASS_AUDIT_KEY is not rotated here:
set a new one there and start a new database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !confirm {
				return mpass.Errorf(mpass.EINVALID, "key rotate cuts every stored pseudonym off from new ones: run it again with --confirm")
			}
			if m.Getenv("MPASS_AUDIT_KEY") != "" {
				return mpass.Errorf(mpass.EINVALID, "the key is MPASS_AUDIT_KEY: set a new key there and use a new database; key rotate replaces a key file")
			}
			old, err := m.keyFor(ctx) // refuses a key that is not the database's
			if err != nil {
				return err
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			k, err := newKey()
			if err != nil {
				return err
			}
			path := m.DBPath + ".key"
			// the check value first, in one transaction with a check of the old one: a
			// crash between the two leaves a key file the database refuses, never a
			// silently accepted one
			if err := db.ReplaceKeyCheck(ctx, facts.KeyCheck(old), facts.KeyCheck([]byte(k))); err != nil {
				return err
			}
			err = atomicfile.WriteFile(path, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, k+"\n"); return err })
			if err != nil {
				return fmt.Errorf("key rotate: the database holds the new key's check value but the key file %s was not written (%v); write this key into it (mode 0600): %s", path, err, k)
			}
			m.key = []byte(k)
			fmt.Fprintf(m.Stdout, "key rotated: %s holds a new key; pseudonyms made from now on are not linked to the stored ones\n", path)
			return nil
		},
	}
	rotate.Flags().BoolVar(&confirm, "confirm", false, "confirm that stored pseudonyms will not be linked to new ones")
	cmd.AddCommand(rotate)
	return cmd
}
