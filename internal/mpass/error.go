package mpass

import (
	"errors"
	"fmt"
)

// Error codes the HTTP layer maps to statuses and the CLI to exit codes.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
)

// Error is an application error with a code and a message safe to show a user.
type Error struct {
	Code    string
	Message string
	// PerLine says Message is a list of problems, one a line (a registry file's errors,
	// each at its own file and line): the CLI then prints each on a line of its own
	// instead of joining them.
	PerLine bool
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode is the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage is the message of the first *Error in err's chain, or a generic text
// that leaks nothing about an internal error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
