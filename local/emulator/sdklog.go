package emulator

import (
	"fmt"
	"strings"
	"sync"

	"github.com/aws/smithy-go/logging"
)

// SDKLog is a logging.Logger that keeps every line the AWS SDK logs, so a test of a stand-in
// can assert that the SDK had nothing to warn about (a checksum it rejected, say).
type SDKLog struct {
	mu    sync.Mutex
	lines []string
}

// Logf keeps one line, prefixed with its classification.
func (l *SDKLog) Logf(c logging.Classification, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s: %s", c, fmt.Sprintf(format, v...)))
}

// String returns every line kept.
func (l *SDKLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Warnings returns the lines logged above DEBUG.
func (l *SDKLog) Warnings() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var w []string
	for _, line := range l.lines {
		if !strings.HasPrefix(line, string(logging.Debug)+":") {
			w = append(w, line)
		}
	}
	return strings.Join(w, "\n")
}
