package gateway

import (
	"net/http"
	"sync/atomic"
)

// Starting is the API while the local stack starts: every route answers 503 with code
// "starting" and what the stack is doing, until Ready hands over to the gateway. The port
// is served from the first second, so a client learns why it must wait instead of hanging.
type Starting struct {
	next  atomic.Pointer[http.Handler]
	doing atomic.Pointer[string]
}

// NewStarting returns a Starting that answers 503 until Ready.
func NewStarting() *Starting {
	s := &Starting{}
	s.SetStatus("starting the stand-ins")
	return s
}

// SetStatus says what the stack is doing, for the 503's message ("building functions: 3 of 40").
func (s *Starting) SetStatus(doing string) { s.doing.Store(&doing) }

// Ready makes every later request go to h.
func (s *Starting) Ready(h http.Handler) { s.next.Store(&h) }

func (s *Starting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := s.next.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "starting",
		"The local stack is starting ("+*s.doing.Load()+"); try again in a few seconds. make run prints when it is ready.")
}
