package httpapi

import "github.com/contrail/contrail/shared/env"

// ReadCursorSecret reads CURSOR_SECRET: the key list cursors are signed with (NewCursors).
func ReadCursorSecret(r *env.Reader) string { return r.String("CURSOR_SECRET") }
