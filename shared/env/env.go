// Package env reads a function's configuration from its environment once, at cold start.
// Each variable is read in one place, the package that owns it (audit's table settings,
// archive's bucket, mail's sender, each service's own tables), by a ReadXxx(*Reader)
// function; a main.go names the readers it runs (lambdafn.New, which calls Load, or Load
// itself), and the template contract test runs the same readers against template.yaml's
// environment of that function.
package env

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Reader collects the problems of every variable it reads, so a bad configuration is
// reported in one message that names each variable, and the names it read.
type Reader struct {
	// Lookup returns a variable and whether it is set; nil = os.LookupEnv. The template
	// contract test passes a function's environment as template.yaml resolves it.
	Lookup func(name string) (string, bool)

	problems []string
	names    []string
}

// Map returns a Lookup over vars: a function's environment as the template contract test
// resolves it, or a test's.
func Map(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// get returns the trimmed value of a variable and notes that it was read.
func (r *Reader) get(name string) string {
	if !slices.Contains(r.names, name) {
		r.names = append(r.names, name)
	}
	lookup := r.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(name)
	return strings.TrimSpace(v)
}

// String returns a required, non-empty variable.
func (r *Reader) String(name string) string {
	v := r.get(name)
	if v == "" {
		r.problems = append(r.problems, name+" is not set")
	}
	return v
}

// Optional returns a variable or def when it is unset or empty.
func (r *Reader) Optional(name, def string) string {
	if v := r.get(name); v != "" {
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

// Bool returns a variable that is true or false (in any case), or def when it is unset or
// empty.
func (r *Reader) Bool(name string, def bool) bool {
	switch s := r.get(name); strings.ToLower(s) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	default:
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not true or false", name, s))
		return def
	}
}

// Invalid records that the variable name, read as value, is unusable: why says what it must be.
func (r *Reader) Invalid(name, value, why string) {
	r.problems = append(r.problems, fmt.Sprintf("%s=%q %s", name, value, why))
}

// Names returns the variables read so far, sorted.
func (r *Reader) Names() []string {
	names := slices.Clone(r.names)
	slices.Sort(names)
	return names
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

// Load runs read over the process environment and returns what it read, or panics with every
// problem found (Must): a main.go's one way to read its configuration.
//
//	svc := contact.NewService(aws, env.Load(contact.ReadConfig))
func Load[C any](read func(*Reader) C) C {
	var r Reader
	c := read(&r)
	r.Must()
	return c
}
