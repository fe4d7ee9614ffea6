package audit

import (
	"errors"
	"unicode/utf8"
)

// SessionID is a co-browsing session's id, chosen by the service that records the session:
// 1 to MaxSessionID characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (UUIDs, ULIDs and the
// like). A session id from a request becomes one only through ParseSessionID, so no raw
// string reaches the BySession key.
type SessionID string

// MaxSessionID is the longest session id, in characters (bytes: the charset is ASCII).
const MaxSessionID = 200

// ParseSessionID returns s as a SessionID, or an error saying what is wrong with it (a
// sentence for error.fields).
func ParseSessionID(s string) (SessionID, error) {
	switch {
	case s == "":
		return "", errors.New("must not be empty")
	case utf8.RuneCountInString(s) > MaxSessionID:
		return "", errors.New("must be at most 200 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return "", errors.New("must hold only A-Z, a-z, 0-9, '.', '_', ':' and '-'")
		}
	}
	return SessionID(s), nil
}
