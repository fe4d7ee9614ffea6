package httpapi

import "github.com/contrail/contrail/shared/env"

// ReadCursorSecretARN reads CURSOR_SECRET_ARN: the Secrets Manager secret whose value signs
// list cursors (NewCursors). Only the functions with list routes have it, and they read the
// value once at cold start (secret.MustString), so it is in no function's environment.
func ReadCursorSecretARN(r *env.Reader) string { return r.String("CURSOR_SECRET_ARN") }
