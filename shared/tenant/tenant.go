// Package tenant holds the one definition of a valid tenant id. The id comes only from a
// verified token (custom:tenant_id) and reaches DynamoDB keys, archive object paths and file
// names, so it is parsed into ID at the edge and nothing downstream takes a raw string.
package tenant

import (
	"fmt"
	"strconv"
)

// MaxLen is the longest tenant id accepted.
const MaxLen = 64

// ID is a tenant id that Parse accepted: 1 to 64 characters of ASCII letters, digits, '-'
// and '_', starting with a letter or digit. It holds no '/', '=', '#', '.', space or
// control character, so it can stand in a DynamoDB key ("T#<id>#..."), an S3 key segment
// ("tenant=<id>/") and a file name without escaping, and cannot name a parent folder.
type ID string

// Parse returns s as an ID, or an error saying what is wrong with it. s is not trimmed:
// a token whose tenant claim has surrounding space is as wrong as any other.
func Parse(s string) (ID, error) {
	if s == "" {
		return "", fmt.Errorf("tenant id is empty")
	}
	if len(s) > MaxLen {
		return "", fmt.Errorf("tenant id is %d bytes long; at most %d are allowed", len(s), MaxLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return "", fmt.Errorf("tenant id holds %s at byte %d; only letters, digits, '-' and '_' are allowed, starting with a letter or digit", strconv.QuoteRuneToASCII(rune(c)), i)
		}
	}
	return ID(s), nil
}

// Valid reports whether id is one Parse would accept. Builders of keys and paths check it
// again (defence in depth), since a conversion ID(s) compiles anywhere.
func (id ID) Valid() bool {
	_, err := Parse(string(id))
	return err == nil
}

// String returns the id as a string.
func (id ID) String() string { return string(id) }
