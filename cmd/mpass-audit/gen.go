package main

import "github.com/spf13/cobra"

func (m *Main) genCommand() *cobra.Command { return &cobra.Command{Use: "gen", Hidden: true} }
