// Package rego holds the built-in policies of mpass-audit: one package per agreement term
// under terms/, helpers in lib/, the attribute catalog and purpose taxonomy in data/, and
// the entry point main.rego. Tests (*_test.rego) sit beside each policy.
package rego

import "embed"

// FS is the built-in policy tree, tests included (`mpass-audit policy test` runs them).
//
//go:embed *.rego lib/*.rego data/*.rego terms/*.rego
var FS embed.FS
