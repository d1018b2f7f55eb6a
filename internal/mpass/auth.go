package mpass

import (
	"context"
	"slices"
	"time"
)

// Roles of API tokens.
const (
	RoleDPO     = "dpo"     // sees its controllers only
	RoleAuditor = "auditor" // OPH: sees all controllers, starts audits
	RoleIngest  = "ingest"  // may only post records
)

// Token is an API token as stored: its secret is never kept, only a hash.
type Token struct {
	ID          string     `json:"id"`
	Role        string     `json:"role"`
	Controllers []string   `json:"controllers"`
	Name        string     `json:"name"`
	Created     time.Time  `json:"created"`
	Revoked     *time.Time `json:"revoked,omitempty"`
}

// Scope is the controllers the token may see: nil for all (auditor), the token's list
// for a DPO, and an empty list (nothing) for an ingest token.
func (t *Token) Scope() []string {
	switch t.Role {
	case RoleAuditor:
		return nil
	case RoleDPO:
		return slices.Clone(t.Controllers)
	}
	return []string{}
}

// Sees reports whether the token may see a controller's data.
func (t *Token) Sees(controller string) bool {
	return t.Role == RoleAuditor || (t.Role == RoleDPO && slices.Contains(t.Controllers, controller))
}

// Session is a web login.
type Session struct {
	Token   *Token
	CSRF    string
	Expires time.Time
}

type tokenKey struct{}

// NewContextWithToken returns ctx carrying the caller's token.
func NewContextWithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// TokenFromContext is the caller's token, or nil.
func TokenFromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(tokenKey{}).(*Token)
	return t
}

// TokenService stores tokens and sessions.
type TokenService interface {
	CreateToken(ctx context.Context, role, name string, controllers []string) (secret string, t *Token, err error)
	Authenticate(ctx context.Context, secret string) (*Token, error)
	RevokeToken(ctx context.Context, id string) error
	CreateSession(ctx context.Context, t *Token, ttl time.Duration) (secret string, s *Session, err error)
	FindSession(ctx context.Context, secret string) (*Session, error)
	DeleteSession(ctx context.Context, secret string) error
}
