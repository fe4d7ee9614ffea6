// Package env reads a function's configuration from its environment once, at cold start.
// Every variable a function reads goes through here, named in its main.go, so the template
// contract test can check that template.yaml sets it.
package env

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Reader collects the problems of every variable it reads, so a bad configuration is
// reported in one message that names each variable.
type Reader struct {
	problems []string
}

// String returns a required, non-empty variable.
func (r *Reader) String(name string) string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		r.problems = append(r.problems, name+" is not set")
	}
	return v
}

// Optional returns a variable or def when it is unset or empty.
func (r *Reader) Optional(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Int returns a required integer variable within [lo, hi].
func (r *Reader) Int(name string, lo, hi int) int {
	s := r.String(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not an integer in [%d, %d]", name, s, lo, hi))
	}
	return n
}

// Err reports every problem found, or nil.
func (r *Reader) Err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(r.problems, "; "))
}

// Must panics with the configuration error, failing the cold start with a message that names
// every bad variable rather than failing the first request.
func (r *Reader) Must() {
	if err := r.Err(); err != nil {
		panic(err.Error())
	}
}
