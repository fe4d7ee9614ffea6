// Package awsid makes the random ids the local stand-ins put on what they deliver, as AWS
// does: Lambda request ids, EventBridge event ids and SQS message ids are UUIDs.
package awsid

import (
	"crypto/rand"
	"fmt"
)

// UUID returns a random UUID (version 4).
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
